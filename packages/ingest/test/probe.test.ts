import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { DEMO_IMAGE_DIR, planDemoScenes, writeDemoDataset } from '../src/demo/generate.ts';
import { listImageFiles, probeImages } from '../src/probe.ts';
import type { ImageProbe } from '../src/rows.ts';
import { bmpBytes, makeImage, randomBytes, truncateJpeg, withTmp, writeFiles } from './fixtures.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('probeImages: facts for good images (JPEG, PNG, WebP), root-relative keys, duplicates probed once', async () => {
  await withTmp('probe-good', async (root) => {
    const files = {
      'imgs/a.jpg': await makeImage(1, 'jpeg', 24),
      'imgs/b.png': await makeImage(2, 'png', 20),
      'imgs/c.webp': await makeImage(3, 'webp', 16),
      'imgs/png-named.jpg': await makeImage(4, 'png', 12), // the content decides the format, not the name
    };
    await writeFiles(root, files);
    const rels = Object.keys(files);
    const probes = await probeImages(root, [...rels, rels[0]], 2);
    assert.deepEqual([...probes.keys()], rels);
    const expected: [string, number, string][] = [['imgs/a.jpg', 24, 'jpeg'], ['imgs/b.png', 20, 'png'], ['imgs/c.webp', 16, 'webp'], ['imgs/png-named.jpg', 12, 'png']];
    for (const [rel, size, format] of expected) {
      const bytes = files[rel as keyof typeof files];
      assert.deepEqual(probes.get(rel), { ok: true, sha256: sha(bytes), width: size, height: size, format, bytes: bytes.length, orientation: 1 }, rel);
    }
  });
});

test('probeImages: EXIF orientation is read (1 when absent); width/height are as stored', async () => {
  await withTmp('probe-exif', async (root) => {
    const files: Record<string, Buffer> = {};
    for (const o of [1, 3, 6, 8]) files[`o${o}.jpg`] = await makeImage(o, 'jpeg', 16, o);
    files['none.jpg'] = await makeImage(9, 'jpeg', 16);
    files['o6.webp'] = await makeImage(10, 'webp', 16, 6);
    // non-square, to show sizes are not swapped for a rotated orientation
    files['wide6.jpg'] = await sharp({ create: { width: 40, height: 10, channels: 3, background: '#3a7' } }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    await writeFiles(root, files);
    const probes = await probeImages(root, Object.keys(files), 4);
    const got = (rel: string) => {
      const p = probes.get(rel)!;
      assert.ok(p.ok, `${rel}: ${JSON.stringify(p)}`);
      return [p.orientation, p.width, p.height];
    };
    assert.deepEqual(got('o1.jpg'), [1, 16, 16]);
    assert.deepEqual(got('o3.jpg'), [3, 16, 16]);
    assert.deepEqual(got('o6.jpg'), [6, 16, 16]);
    assert.deepEqual(got('o8.jpg'), [8, 16, 16]);
    assert.deepEqual(got('none.jpg'), [1, 16, 16]);
    assert.deepEqual(got('o6.webp'), [6, 16, 16]);
    assert.deepEqual(got('wide6.jpg'), [6, 40, 10]);
  });
});

test('probeImages: each kind of bad file gets its fixed reason; decoder text goes in detail', async () => {
  await withTmp('probe-bad', async (root) => {
    const jpeg = await makeImage(1, 'jpeg', 64);
    const png = await makeImage(2, 'png', 32);
    await writeFiles(root, {
      'half.jpg': truncateJpeg(jpeg),
      'half.png': png.subarray(0, png.length >> 1),
      'empty.jpg': new Uint8Array(0),
      'bmp.jpg': bmpBytes(),
      'random.jpg': randomBytes(),
      'text.jpg': 'not an image at all\n',
    });
    const probes = await probeImages(root, ['half.jpg', 'half.png', 'empty.jpg', 'bmp.jpg', 'random.jpg', 'text.jpg', 'missing.jpg', 'no/such/dir.jpg'], 4);
    assert.deepEqual(probes.get('half.jpg'), { ok: false, reason: 'corrupt or truncated image', detail: 'VipsJpeg: premature end of JPEG image' });
    const halfPng = probes.get('half.png')!;
    assert.ok(!halfPng.ok && halfPng.reason === 'corrupt or truncated image' && halfPng.detail, JSON.stringify(halfPng));
    assert.deepEqual(probes.get('empty.jpg'), { ok: false, reason: 'zero-byte image file' });
    for (const rel of ['random.jpg', 'text.jpg']) {
      assert.deepEqual(probes.get(rel), { ok: false, reason: 'unsupported image format', detail: 'Input buffer contains unsupported image format' }, rel);
    }
    assert.deepEqual(probes.get('bmp.jpg'), { ok: false, reason: 'unsupported image format', detail: 'bmp (supported: JPEG, PNG, WebP)' });
    assert.deepEqual(probes.get('missing.jpg'), { ok: false, reason: 'image file missing' });
    assert.deepEqual(probes.get('no/such/dir.jpg'), { ok: false, reason: 'image file missing' });
  });
});

test('probeImages: results (failure details included) are the same at concurrency 1 and 8, run after run', async () => {
  await withTmp('probe-conc', async (root) => {
    // libvips reports errors through one process-wide buffer: concurrent decodes must not blur the details.
    const opts = { seed: 5, images: 16 };
    await writeDemoDataset(root, opts);
    const ids = planDemoScenes(opts).map((s) => s.imageId);
    const file = (name: string) => path.join(root, DEMO_IMAGE_DIR, name);
    const bad: Record<string, Uint8Array | string> = {};
    for (let i = 0; i < 6; i++) {
      const good = await readFile(file(ids[i]));
      bad[`half${i}.jpg`] = good.subarray(0, Math.floor(good.length * (0.3 + i * 0.1)));
      bad[`junk${i}.jpg`] = randomBytes(300, i);
    }
    bad['empty.jpg'] = new Uint8Array(0);
    for (const [name, data] of Object.entries(bad)) await writeFile(file(name), data);
    const rels = [...ids, ...Object.keys(bad), 'missing.jpg'].map((n) => `${DEMO_IMAGE_DIR}/${n}`);

    const serial = await probeImages(root, rels, 1);
    for (let i = 0; i < 6; i++) {
      assert.deepEqual(serial.get(`${DEMO_IMAGE_DIR}/half${i}.jpg`), { ok: false, reason: 'corrupt or truncated image', detail: 'VipsJpeg: premature end of JPEG image' });
      assert.deepEqual(serial.get(`${DEMO_IMAGE_DIR}/junk${i}.jpg`), { ok: false, reason: 'unsupported image format', detail: 'Input buffer contains unsupported image format' });
    }
    for (const id of ids) {
      const bytes = await readFile(file(id));
      assert.deepEqual(serial.get(`${DEMO_IMAGE_DIR}/${id}`), { ok: true, sha256: sha(bytes), width: 224, height: 224, format: 'jpeg', bytes: bytes.length, orientation: 1 });
    }
    const asList = (m: Map<string, ImageProbe>) => [...m];
    for (let run = 0; run < 4; run++) {
      assert.deepEqual(asList(await probeImages(root, rels, 8)), asList(serial), `concurrency 8, run ${run}`);
    }
  });
});

test('listImageFiles: root-relative, sorted, plain files only, hidden files skipped, missing folder -> []', async () => {
  await withTmp('list', async (root) => {
    await writeFiles(root, {
      'Flicker8k_Dataset/b.jpg': 'b',
      'Flicker8k_Dataset/a.jpg': 'a',
      'Flicker8k_Dataset/C.png': 'c',
      'Flicker8k_Dataset/.DS_Store': 'x',
      'Flicker8k_Dataset/sub/deep.jpg': 'd', // not recursive
      'other/x.jpg': 'x',
    });
    await mkdir(path.join(root, 'Flicker8k_Dataset', 'emptydir'));
    await copyFile(path.join(root, 'Flicker8k_Dataset/a.jpg'), path.join(root, 'Flicker8k_Dataset/.hidden.jpg'));
    assert.deepEqual(await listImageFiles(root, 'Flicker8k_Dataset'), ['Flicker8k_Dataset/C.png', 'Flicker8k_Dataset/a.jpg', 'Flicker8k_Dataset/b.jpg']);
    assert.deepEqual(await listImageFiles(root, 'images/val2014'), []);
    await writeFiles(root, { 'images/val2014/z.jpg': 'z' });
    assert.deepEqual(await listImageFiles(root, 'images/val2014'), ['images/val2014/z.jpg']);
  });
});

test('probeImages: one list of supported formats (JPEG, PNG, WebP); a GIF is unsupported; a JPEG header over random bytes is corrupt', async () => {
  await withTmp('probe-formats', async (root) => {
    const gif = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#a33' } }).gif().toBuffer();
    const jpegHeader = (await makeImage(1, 'jpeg', 16)).subarray(0, 20); // SOI + APP0/JFIF
    await writeFiles(root, {
      'anim.gif': gif,
      'header-only.jpg': Buffer.concat([jpegHeader, randomBytes(4000)]),
      'png-header.png': Buffer.concat([(await makeImage(2, 'png', 16)).subarray(0, 16), randomBytes(500)]),
    });
    const probes = await probeImages(root, ['anim.gif', 'header-only.jpg', 'png-header.png'], 2);
    assert.deepEqual(probes.get('anim.gif'), { ok: false, reason: 'unsupported image format', detail: 'gif (supported: JPEG, PNG, WebP)' });
    for (const rel of ['header-only.jpg', 'png-header.png']) {
      const p = probes.get(rel)!;
      assert.ok(!p.ok && p.reason === 'corrupt or truncated image', `${rel}: ${JSON.stringify(p)}`);
    }
  });
});
