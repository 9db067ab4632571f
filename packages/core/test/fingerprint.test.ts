import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fingerprintDirectory } from '../src/config/fingerprint.ts';

function makeDataset(root: string, name: string): string {
  const dir = path.join(root, name);
  fs.mkdirSync(path.join(dir, 'images', 'sub'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'captions.txt'), 'a.jpg#0\ta dog\n');
  fs.writeFileSync(path.join(dir, 'images', 'a.jpg'), Uint8Array.from([1, 2, 3]));
  fs.writeFileSync(path.join(dir, 'images', 'sub', 'b.jpg'), Uint8Array.from([4, 5]));
  return dir;
}

test('fingerprintDirectory: stable, and changes on edit, addition, removal and rename', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'core-fp-'));
  try {
    const dir = makeDataset(root, 'ds');
    const base = await fingerprintDirectory(dir);
    assert.deepEqual(base.files, 3);
    assert.deepEqual(base.bytes, 14 + 3 + 2);
    assert.match(base.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(await fingerprintDirectory(dir), base, 'same content -> same fingerprint');
    // another directory with the same content (created in another order) has the same fingerprint
    const twin = path.join(root, 'twin');
    fs.mkdirSync(path.join(twin, 'images', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(twin, 'images', 'sub', 'b.jpg'), Uint8Array.from([4, 5]));
    fs.writeFileSync(path.join(twin, 'images', 'a.jpg'), Uint8Array.from([1, 2, 3]));
    fs.writeFileSync(path.join(twin, 'captions.txt'), 'a.jpg#0\ta dog\n');
    assert.deepEqual(await fingerprintDirectory(twin), base);
    // touching mtime is not a change
    const t = new Date(2001, 1, 1);
    fs.utimesSync(path.join(dir, 'captions.txt'), t, t);
    assert.deepEqual(await fingerprintDirectory(dir), base);

    let previous = base.sha256;
    const expectChange = async (what: string, change: () => void) => {
      change();
      const fp = await fingerprintDirectory(dir);
      assert.notEqual(fp.sha256, previous, `${what} must change the fingerprint`);
      previous = fp.sha256;
      return fp;
    };
    // same size, different content
    const edited = await expectChange('edited content', () => fs.writeFileSync(path.join(dir, 'images', 'sub', 'b.jpg'), Uint8Array.from([4, 6])));
    const added = await expectChange('added file', () => fs.writeFileSync(path.join(dir, 'images', 'c.jpg'), 'new'));
    assert.equal(added.files, 4);
    assert.equal(added.bytes, 14 + 3 + 2 + 3);
    await expectChange('renamed file', () => fs.renameSync(path.join(dir, 'images', 'c.jpg'), path.join(dir, 'images', 'd.jpg')));
    await expectChange('moved to another folder', () => fs.renameSync(path.join(dir, 'images', 'd.jpg'), path.join(dir, 'images', 'sub', 'd.jpg')));
    const removed = await expectChange('removed file', () => fs.rmSync(path.join(dir, 'images', 'sub', 'd.jpg')));
    assert.equal(removed.files, 3);
    assert.equal(removed.sha256, edited.sha256, 'back to the same content -> back to the same fingerprint');
    // empty folders are not content
    fs.mkdirSync(path.join(dir, 'empty'));
    assert.equal((await fingerprintDirectory(dir)).sha256, removed.sha256);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('fingerprintDirectory follows symlinks inside the data directory: a link retargeted or its target edited changes it', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'core-fp-links-'));
  try {
    const dir = makeDataset(root, 'ds');
    fs.mkdirSync(path.join(dir, 'store'));
    fs.writeFileSync(path.join(dir, 'store', 'x.jpg'), 'x bytes');
    fs.writeFileSync(path.join(dir, 'store', 'y.jpg'), 'y bytes');
    fs.symlinkSync('../store/x.jpg', path.join(dir, 'images', 'linked.jpg'));  // a file link inside
    fs.symlinkSync('store', path.join(dir, 'Images'));                          // a folder link inside (a common layout)
    const base = await fingerprintDirectory(dir);
    assert.equal(base.files, 3 + 2 + 1 + 2, 'linked file and linked folder contents count as what ingest reads');
    fs.rmSync(path.join(dir, 'images', 'linked.jpg'));
    fs.symlinkSync('../store/y.jpg', path.join(dir, 'images', 'linked.jpg'));
    const retargeted = await fingerprintDirectory(dir);
    assert.notEqual(retargeted.sha256, base.sha256, 'the link now names other bytes');
    fs.writeFileSync(path.join(dir, 'store', 'y.jpg'), 'y edited');
    assert.notEqual((await fingerprintDirectory(dir)).sha256, retargeted.sha256, 'edited bytes behind a link');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('fingerprintDirectory never reads what a link outside the data directory points at, but notes where it points', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'core-fp-out-'));
  try {
    const dir = makeDataset(root, 'ds');
    fs.mkdirSync(path.join(root, 'elsewhere'));
    fs.writeFileSync(path.join(root, 'elsewhere', 'secret.txt'), 'outside');
    fs.symlinkSync(path.join(root, 'elsewhere'), path.join(dir, 'outside-folder'));
    fs.symlinkSync(path.join(root, 'elsewhere', 'secret.txt'), path.join(dir, 'images', 'outside.jpg'));
    fs.symlinkSync('../..', path.join(dir, 'images', 'loop'));                   // escapes, and would loop if followed
    const base = await fingerprintDirectory(dir);
    assert.equal(base.files, 3, 'only the files inside are hashed');
    fs.writeFileSync(path.join(root, 'elsewhere', 'secret.txt'), 'changed outside');
    assert.equal((await fingerprintDirectory(dir)).sha256, base.sha256, 'content outside is not part of the data set');
    fs.rmSync(path.join(dir, 'images', 'outside.jpg'));
    fs.symlinkSync('/etc/hostname', path.join(dir, 'images', 'outside.jpg'));
    assert.notEqual((await fingerprintDirectory(dir)).sha256, base.sha256, 'where a link points is part of the data set');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
