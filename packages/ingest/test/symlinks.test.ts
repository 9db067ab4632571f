/**
 * Symlinks in a data set: a link that stays inside the data directory is followed like any file or folder;
 * an entry whose real path leaves the data directory is rejected as `image path escapes the data directory`
 * and never opened (a FIFO behind the link proves it: opening one would block the test forever).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256 } from '@caption/core';
import { assertCountsAddUp, ingest, makeImage, tokenLines, withTmp, writeFiles } from './fixtures.ts';

const TOKENS = 'Flickr8k_text/Flickr8k.token.txt';
const IMG = 'Flicker8k_Dataset';
const ESCAPES = 'image path escapes the data directory';

async function writeData(root: string, names: string[]) {
  await writeFiles(root, { [TOKENS]: tokenLines(Object.fromEntries(names.map((n) => [n, [`a picture of ${n}`]]))).join('\n') + '\n' });
  await mkdir(path.join(root, IMG), { recursive: true });
}

test('symlinks leaving the data directory are rejected and never opened: a JPEG, a system file, a FIFO, a linked folder', { timeout: 60_000 }, async () => {
  await withTmp('links-out', async (tmp) => {
    const data = path.join(tmp, 'data');
    const outside = path.join(tmp, 'outside');
    await mkdir(path.join(outside, 'photos'), { recursive: true });
    await writeFile(path.join(outside, 'photo.jpg'), await makeImage(1));
    await writeFile(path.join(outside, 'photos', 'p.jpg'), await makeImage(2));
    await writeFile(path.join(outside, 'notes.txt'), 'root:x:0:0:root:/root:/bin/bash\n');
    execFileSync('mkfifo', [path.join(outside, 'pipe')]);
    await writeData(data, ['ok.jpg', 'photo.jpg', 'notes.jpg', 'pipe.jpg', 'sub/p.jpg']);
    await writeFile(path.join(data, IMG, 'ok.jpg'), await makeImage(3));
    await symlink(path.join(outside, 'photo.jpg'), path.join(data, IMG, 'photo.jpg'));
    await symlink(path.join(outside, 'notes.txt'), path.join(data, IMG, 'notes.jpg'));
    await symlink(path.join(outside, 'pipe'), path.join(data, IMG, 'pipe.jpg'));
    await symlink(path.join(outside, 'photos'), path.join(data, IMG, 'sub'));

    const r = await ingest(data, path.join(tmp, 'out'));
    assertCountsAddUp(r);
    assert.deepEqual(r.images.map((i) => i.image_id), ['ok.jpg']);
    const rejected = Object.fromEntries(r.rejects.map((x) => [x.raw.split('#')[0], x]));
    for (const name of ['photo.jpg', 'notes.jpg', 'pipe.jpg', 'sub/p.jpg']) {
      assert.equal(rejected[name]?.reason, ESCAPES, name);
      assert.match(rejected[name].detail ?? '', new RegExp(`resolves to .*outside.*, outside the data directory`), name);
    }
  });
});

test('symlinks inside the data directory are followed: a linked image folder and a linked file are kept with their bytes\' sha256', async () => {
  await withTmp('links-in', async (tmp) => {
    const data = path.join(tmp, 'data');
    await writeFiles(data, { [TOKENS]: tokenLines({ 'a.jpg': ['a red thing'], 'b.jpg': ['a blue thing'] }).join('\n') + '\n' });
    await mkdir(path.join(data, 'store', 'images'), { recursive: true });
    await writeFile(path.join(data, 'store', 'images', 'a.jpg'), await makeImage(4));
    await writeFile(path.join(data, 'store', 'b-real.jpg'), await makeImage(5));
    await symlink('../b-real.jpg', path.join(data, 'store', 'images', 'b.jpg'));
    await symlink('store/images', path.join(data, IMG)); // the image folder is a link to another folder inside
    const r = await ingest(data, path.join(tmp, 'out'));
    assertCountsAddUp(r);
    assert.deepEqual(r.rejects, []);
    assert.deepEqual(r.images.map((i) => [i.image_id, i.sha256]), [
      ['a.jpg', sha256(await readFile(path.join(data, 'store', 'images', 'a.jpg')))],
      ['b.jpg', sha256(await readFile(path.join(data, 'store', 'b-real.jpg')))],
    ]);
  });
});

test('a caption file that links outside the data directory is refused by name, not read', async () => {
  await withTmp('links-text', async (tmp) => {
    const data = path.join(tmp, 'data');
    await writeFiles(path.join(tmp, 'outside'), { 'tokens.txt': tokenLines({ 'a.jpg': ['a thing'] }).join('\n') + '\n' });
    await mkdir(path.join(data, 'Flickr8k_text'), { recursive: true });
    await symlink(path.join(tmp, 'outside', 'tokens.txt'), path.join(data, TOKENS));
    await assert.rejects(ingest(data, path.join(tmp, 'out')), /flickr8k: Flickr8k_text\/Flickr8k\.token\.txt resolves to .*outside.*, outside the data directory/);
  });
});
