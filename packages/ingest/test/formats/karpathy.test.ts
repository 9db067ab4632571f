import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { PipelineError } from '@caption/core';
import { karpathySource } from '../../src/formats/karpathy.ts';
import { DEFAULT_SPLIT_MAP } from '../../src/params.ts';
import { assertCountsAddUp, ingest, makeImage, withTmp, writeFiles } from '../fixtures.ts';

const enc = (s: string) => new TextEncoder().encode(s);
type Img = { filename: string; filepath?: string; split?: string; sentences?: { raw?: unknown; sentid?: number }[] };
const karpathyJson = (images: Img[], dataset = 'flickr8k') => JSON.stringify({ dataset, images });
const sentences = (...raws: unknown[]) => raws.map((raw, i) => ({ raw, tokens: [], sentid: i, imgid: 0 }));

test('karpathySource: sentences -> captions, splits through the split map (restval -> train, val -> dev), images listed', () => {
  const s = karpathySource('dataset_flickr8k.json', enc(karpathyJson([
    { filename: 'a.jpg', split: 'train', sentences: sentences('A dog .', ' a dog running ') },
    { filename: 'b.jpg', split: 'restval', sentences: sentences('B .') },
    { filename: 'c.jpg', split: 'val', sentences: sentences('C .') },
    { filename: 'd.jpg', split: 'test', sentences: sentences('D .') },
    { filename: 'e.jpg', split: 'weird', sentences: sentences('E .') },
  ])), () => 'Flicker8k_Dataset', DEFAULT_SPLIT_MAP);
  assert.equal(s.format, 'karpathy');
  assert.deepEqual(s.rejects, []);
  assert.equal(s.recordsRead, 6);
  assert.deepEqual(s.captions.map((c) => [c.image_id, c.path, c.caption_index, c.caption, c.record]), [
    ['a.jpg', 'Flicker8k_Dataset/a.jpg', 0, 'A dog .', 1],
    ['a.jpg', 'Flicker8k_Dataset/a.jpg', 1, 'a dog running', 2],
    ['b.jpg', 'Flicker8k_Dataset/b.jpg', 0, 'B .', 3],
    ['c.jpg', 'Flicker8k_Dataset/c.jpg', 0, 'C .', 4],
    ['d.jpg', 'Flicker8k_Dataset/d.jpg', 0, 'D .', 5],
    ['e.jpg', 'Flicker8k_Dataset/e.jpg', 0, 'E .', 6],
  ]);
  assert.ok(s.captions.every((c) => c.source === 'dataset_flickr8k.json#sentences'));
  assert.deepEqual([...s.splitOf!], [['a.jpg', 'train'], ['b.jpg', 'train'], ['c.jpg', 'dev'], ['d.jpg', 'test'], ['e.jpg', 'none']]);
  assert.deepEqual(s.listedImages.map((i) => [i.image_id, i.path, i.source, i.record]), ['a', 'b', 'c', 'd', 'e'].map((x, i) =>
    [`${x}.jpg`, `Flicker8k_Dataset/${x}.jpg`, 'dataset_flickr8k.json', i + 1]));
  assert.deepEqual(s.imageDirs, []);
  assert.deepEqual(karpathySource('d.json', enc(karpathyJson([{ filename: 'c.jpg', split: 'val', sentences: [] }])), () => '', { ...DEFAULT_SPLIT_MAP, val: 'test' })
    .splitOf!.get('c.jpg'), 'test');
});

test('karpathySource: COCO-style entries: image id and path include filepath; the image root depends on it', () => {
  const roots: (string | undefined)[] = [];
  const s = karpathySource('dataset_coco.json', enc(karpathyJson([
    { filepath: 'val2014', filename: 'COCO_val2014_000000000042.jpg', split: 'restval', sentences: sentences('x') },
    { filepath: 'train2014', filename: 'COCO_train2014_000000000007.jpg', split: 'train', sentences: sentences('y') },
  ], 'coco')), (fp) => { roots.push(fp); return fp === 'val2014' ? 'images' : ''; }, DEFAULT_SPLIT_MAP);
  assert.deepEqual(roots, ['val2014', 'train2014']);
  assert.deepEqual(s.captions.map((c) => [c.image_id, c.path]), [
    ['val2014/COCO_val2014_000000000042.jpg', 'images/val2014/COCO_val2014_000000000042.jpg'],
    ['train2014/COCO_train2014_000000000007.jpg', 'train2014/COCO_train2014_000000000007.jpg'],
  ]);
});

test('karpathySource: empty or missing sentence text is rejected (record = sentence ordinal in the file)', () => {
  const s = karpathySource('dataset_flickr8k.json', enc(karpathyJson([
    { filename: 'a.jpg', split: 'train', sentences: sentences('ok', '  ') },
    { filename: 'b.jpg', split: 'train', sentences: [{ sentid: 9 }] },
    { filename: 'c.jpg', split: 'train' }, // no sentences at all: listed, no records
  ])), () => 'Images', DEFAULT_SPLIT_MAP);
  assert.deepEqual(s.rejects, [
    { source: 'dataset_flickr8k.json#sentences', record: 2, raw: '  ', reason: 'empty caption' },
    { source: 'dataset_flickr8k.json#sentences', record: 3, raw: '{"sentid":9}', reason: 'empty caption' },
  ]);
  assert.equal(s.recordsRead, 3);
  assert.equal(s.recordsRead, s.captions.length + s.rejects.length);
  assert.deepEqual(s.listedImages.map((i) => i.image_id), ['a.jpg', 'b.jpg', 'c.jpg']);
});

test('karpathySource: a file without an images array is an input error naming it', () => {
  for (const json of ['not json', '{"dataset":"x"}']) {
    assert.throws(() => karpathySource('dataset_x.json', enc(json), () => '', DEFAULT_SPLIT_MAP), (err: unknown) =>
      err instanceof PipelineError && err.code === 'input' && err.message.startsWith('dataset_x.json: not a Karpathy split file'));
  }
});

test('Karpathy dataset_flickr8k.json through the stage: detected, restval -> train, val -> dev, uncaptioned image rejected', async () => {
  await withTmp('karpathy', async (tmp) => {
    const data = path.join(tmp, 'data');
    const images: Img[] = [
      { filename: '10_a.jpg', split: 'train', sentences: sentences('a one', 'a two') },
      { filename: '11_b.jpg', split: 'restval', sentences: sentences('b one') },
      { filename: '12_c.jpg', split: 'val', sentences: sentences('c one', 'c two') },
      { filename: '13_d.jpg', split: 'test', sentences: sentences('d one') },
      { filename: '14_e.jpg', split: 'test', sentences: [] },
    ];
    await writeFiles(data, {
      'dataset_flickr8k.json': karpathyJson(images),
      // a token file too: the Karpathy file takes precedence in detection
      'Flickr8k_text/Flickr8k.token.txt': '10_a.jpg#0\tfrom the token file\n',
      ...Object.fromEntries(await Promise.all(images.map(async (img, i) => [`Flicker8k_Dataset/${img.filename}`, await makeImage(i, 'jpeg', 16)]))),
    });
    const r = await ingest(data, path.join(tmp, 'auto'));
    assert.equal(r.manifest.extra?.format, 'karpathy');
    assertCountsAddUp(r);
    assert.deepEqual(r.images.map((i) => [i.image_id, i.path, i.split]), [
      ['10_a.jpg', 'Flicker8k_Dataset/10_a.jpg', 'train'],
      ['11_b.jpg', 'Flicker8k_Dataset/11_b.jpg', 'train'],
      ['12_c.jpg', 'Flicker8k_Dataset/12_c.jpg', 'dev'],
      ['13_d.jpg', 'Flicker8k_Dataset/13_d.jpg', 'test'],
    ]);
    assert.deepEqual(r.captions.map((c) => [c.image_id, c.caption_index, c.caption, c.split]), [
      ['10_a.jpg', 0, 'a one', 'train'], ['10_a.jpg', 1, 'a two', 'train'], ['11_b.jpg', 0, 'b one', 'train'],
      ['12_c.jpg', 0, 'c one', 'dev'], ['12_c.jpg', 1, 'c two', 'dev'], ['13_d.jpg', 0, 'd one', 'test'],
    ]);
    assert.deepEqual(r.rejects.map((x) => [x.source, x.record, x.raw, x.reason]), [
      ['dataset_flickr8k.json', 5, 'Flicker8k_Dataset/14_e.jpg', 'image with no caption'],
    ]);
    const forced = await ingest(data, path.join(tmp, 'forced'), { format: 'karpathy' });
    assert.deepEqual([forced.images, forced.captions, forced.rejects], [r.images, r.captions, r.rejects]);
  });
});

test('Karpathy COCO-style (filepath: val2014) through the stage: images under the root or under images/', async () => {
  await withTmp('karpathy-coco', async (tmp) => {
    const files = ['COCO_val2014_000000000042.jpg', 'COCO_val2014_000000000073.jpg'];
    const json = karpathyJson(files.map((filename, i) => ({ filepath: 'val2014', filename, split: i ? 'val' : 'restval', sentences: sentences(`caption ${i}`) })), 'coco');
    for (const [dir, prefix] of [['root', ''], ['images', 'images/']] as const) {
      const data = path.join(tmp, dir);
      await writeFiles(data, {
        'dataset_coco.json': json,
        ...Object.fromEntries(await Promise.all(files.map(async (f, i) => [`${prefix}val2014/${f}`, await makeImage(i, 'jpeg', 16)]))),
      });
      const r = await ingest(data, path.join(tmp, `out-${dir}`));
      assert.equal(r.manifest.extra?.format, 'karpathy');
      assertCountsAddUp(r);
      assert.deepEqual(r.rejects, [], dir);
      assert.deepEqual(r.images.map((i) => [i.image_id, i.path, i.split]), [
        [`val2014/${files[0]}`, `${prefix}val2014/${files[0]}`, 'train'],
        [`val2014/${files[1]}`, `${prefix}val2014/${files[1]}`, 'dev'],
      ], dir);
    }
  });
});

test('karpathySource: a filename or filepath that leaves the image root keeps its path as written (the stage rejects it)', () => {
  const s = karpathySource('dataset_x.json', enc(karpathyJson([
    { filename: '../x.jpg', split: 'train', sentences: sentences('a') },
    { filepath: '..', filename: 'y.jpg', split: 'train', sentences: sentences('b') },
    { filepath: 'val2014', filename: 'z.jpg', split: 'train', sentences: sentences('c') },
  ])), () => 'Flicker8k_Dataset', DEFAULT_SPLIT_MAP);
  assert.deepEqual(s.captions.map((c) => c.path), ['../x.jpg', '../y.jpg', 'Flicker8k_Dataset/val2014/z.jpg']);
});

test('karpathySource: an entry without filename or without split is rejected saying which field is missing', () => {
  const s = karpathySource('dataset_flickr8k.json', enc(JSON.stringify({ images: [
    { filename: 'a.jpg', split: 'train', sentences: sentences('a dog') },
    { split: 'train', sentences: sentences('no file name', 'still none') },
    { filename: 'c.jpg', sentences: sentences('no split') },
  ] })), () => 'Images', DEFAULT_SPLIT_MAP);
  assert.deepEqual(s.captions.map((c) => c.image_id), ['a.jpg']);
  assert.deepEqual(s.rejects.map((r) => [r.record, r.reason, r.detail]), [
    [2, 'missing field filename', 'images[1] has no "filename"'], [3, 'missing field filename', 'images[1] has no "filename"'],
    [4, 'missing field split', 'images[2] (c.jpg) has no "split"'],
  ]);
  assert.equal(s.recordsRead, s.captions.length + s.rejects.length);
  assert.deepEqual(s.listedImages.map((i) => i.image_id), ['a.jpg'], 'entries without a usable image are not listed as images');
});
