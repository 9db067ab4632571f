import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { PipelineError } from '@caption/core';
import { cocoSource, type CocoFile } from '../../src/formats/coco.ts';
import { DEFAULT_SPLIT_MAP } from '../../src/params.ts';
import { assertCountsAddUp, ingest, makeImage, withTmp, writeFiles } from '../fixtures.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const name = (split: string, id: number) => `COCO_${split}_${String(id).padStart(12, '0')}.jpg`;

function cocoJson(split: string, images: number[], annotations: { id?: number; image_id: number; caption: unknown }[]) {
  return JSON.stringify({
    info: { description: 'test' },
    images: images.map((id) => ({ id, file_name: name(split, id), width: 16, height: 16 })),
    licenses: [],
    annotations,
  });
}

const file = (splitName: string, json: string, imageDir = splitName): CocoFile =>
  ({ source: `annotations/captions_${splitName}.json`, bytes: enc(json), splitName, imageDir });

test('cocoSource: annotations -> captions numbered per image, split from the file name, images listed', () => {
  const s = cocoSource([
    file('train2014', cocoJson('train2014', [1, 2], [
      { id: 10, image_id: 2, caption: 'two a ' },
      { id: 11, image_id: 1, caption: 'one a' },
      { id: 12, image_id: 2, caption: 'two b' },
    ])),
    file('val2014', cocoJson('val2014', [3], [{ id: 20, image_id: 3, caption: 'three' }])),
  ], DEFAULT_SPLIT_MAP);
  assert.equal(s.format, 'coco');
  assert.deepEqual(s.rejects, []);
  assert.equal(s.recordsRead, 4);
  const t = 'annotations/captions_train2014.json#annotations';
  assert.deepEqual(s.captions.map((c) => [c.image_id, c.path, c.caption_index, c.caption, c.source, c.record]), [
    [name('train2014', 2), `train2014/${name('train2014', 2)}`, 0, 'two a', t, 1],
    [name('train2014', 1), `train2014/${name('train2014', 1)}`, 0, 'one a', t, 2],
    [name('train2014', 2), `train2014/${name('train2014', 2)}`, 1, 'two b', t, 3],
    [name('val2014', 3), `val2014/${name('val2014', 3)}`, 0, 'three', 'annotations/captions_val2014.json#annotations', 1],
  ]);
  assert.deepEqual(JSON.parse(s.captions[0].raw), { id: 10, image_id: 2, caption: 'two a ' });
  assert.deepEqual([...s.splitOf!], [[name('train2014', 1), 'train'], [name('train2014', 2), 'train'], [name('val2014', 3), 'dev']]);
  assert.deepEqual(s.listedImages, [
    { image_id: name('train2014', 1), path: `train2014/${name('train2014', 1)}`, source: 'annotations/captions_train2014.json#images', record: 1 },
    { image_id: name('train2014', 2), path: `train2014/${name('train2014', 2)}`, source: 'annotations/captions_train2014.json#images', record: 2 },
    { image_id: name('val2014', 3), path: `val2014/${name('val2014', 3)}`, source: 'annotations/captions_val2014.json#images', record: 1 },
  ]);
  assert.deepEqual(s.imageDirs, ['train2014', 'val2014']);
  // a split map entry overrides; an unmapped split name is 'none'
  const over = cocoSource([file('val2014', cocoJson('val2014', [3], [])), file('extra', cocoJson('extra', [4], []))], { ...DEFAULT_SPLIT_MAP, val2014: 'test' });
  assert.deepEqual([...over.splitOf!], [[name('val2014', 3), 'test'], [name('extra', 4), 'none']]);
});

test('cocoSource: unknown image id, empty or non-string caption, duplicate annotation id are rejected; counts add up', () => {
  const s = cocoSource([file('val2014', cocoJson('val2014', [1], [
    { id: 1, image_id: 1, caption: 'kept' },
    { id: 2, image_id: 999, caption: 'nobody' },
    { id: 3, image_id: 1, caption: '   ' },
    { id: 4, image_id: 1, caption: 42 },
    { id: 1, image_id: 1, caption: 'same id again' },
    { image_id: 1, caption: 'no id is fine' },
  ]))], DEFAULT_SPLIT_MAP);
  assert.deepEqual(s.rejects.map((r) => [r.record, r.reason]), [
    [2, 'annotation names an unknown image id'],
    [3, 'empty caption'],
    [4, 'empty caption'],
    [5, 'duplicate caption id'],
  ]);
  assert.ok(s.rejects.every((r) => r.source === 'annotations/captions_val2014.json#annotations'));
  assert.deepEqual(JSON.parse(s.rejects[0].raw), { id: 2, image_id: 999, caption: 'nobody' });
  assert.deepEqual(s.captions.map((c) => [c.caption_index, c.caption]), [[0, 'kept'], [1, 'no id is fine']]);
  assert.equal(s.recordsRead, s.captions.length + s.rejects.length);
});

test('cocoSource: a file that is not COCO captions is an input error naming it', () => {
  for (const json of ['{ nope', '{"images": []}', '[]']) {
    assert.throws(() => cocoSource([file('val2014', json)], DEFAULT_SPLIT_MAP), (err: unknown) =>
      err instanceof PipelineError && err.code === 'input' && err.message.startsWith('annotations/captions_val2014.json: not a COCO caption file'));
  }
});

async function writeCoco(root: string) {
  const train = [1, 2, 3];
  const val = [7, 8, 9]; // 9 is listed but has no annotation
  const caps = (split: string, ids: number[], first: number) =>
    ids.flatMap((id, i) => [0, 1].map((k) => ({ id: first + i * 2 + k, image_id: id, caption: `${split} image ${id} caption ${k}` })));
  const files: Record<string, string | Uint8Array> = {
    'annotations/captions_train2014.json': cocoJson('train2014', train, caps('train', train, 100)),
    'annotations/captions_val2014.json': cocoJson('val2014', val, [...caps('val', [7, 8], 200), { id: 300, image_id: 12345, caption: 'an unknown image' }]),
  };
  for (const id of train) files[`train2014/${name('train2014', id)}`] = await makeImage(id, 'jpeg', 16);
  for (const id of val) files[`val2014/${name('val2014', id)}`] = await makeImage(id, 'jpeg', 16);
  files[`train2014/${name('train2014', 4)}`] = await makeImage(4, 'jpeg', 16); // in the folder, not in the JSON
  await writeFiles(root, files);
}

test('COCO through the stage: train2014 -> train, val2014 -> dev; unknown image id and uncaptioned images rejected', async () => {
  await withTmp('coco', async (tmp) => {
    const data = path.join(tmp, 'data');
    await writeCoco(data);
    const r = await ingest(data, path.join(tmp, 'auto'));
    assert.equal(r.manifest.extra?.format, 'coco');
    assertCountsAddUp(r);
    assert.deepEqual(r.images.map((i) => [i.image_id, i.path, i.split]), [
      [name('train2014', 1), `train2014/${name('train2014', 1)}`, 'train'],
      [name('train2014', 2), `train2014/${name('train2014', 2)}`, 'train'],
      [name('train2014', 3), `train2014/${name('train2014', 3)}`, 'train'],
      [name('val2014', 7), `val2014/${name('val2014', 7)}`, 'dev'],
      [name('val2014', 8), `val2014/${name('val2014', 8)}`, 'dev'],
    ]);
    assert.deepEqual(r.captions.filter((c) => c.image_id === name('val2014', 8)).map((c) => [c.caption_index, c.caption, c.split]), [
      [0, 'val image 8 caption 0', 'dev'],
      [1, 'val image 8 caption 1', 'dev'],
    ]);
    assert.deepEqual(r.rejects.map(({ source, record, raw, reason }) => [source, record, raw, reason]), [
      ['annotations/captions_val2014.json#annotations', 5, JSON.stringify({ id: 300, image_id: 12345, caption: 'an unknown image' }), 'annotation names an unknown image id'],
      ['annotations/captions_val2014.json#images', 3, `val2014/${name('val2014', 9)}`, 'image with no caption'],
      [`train2014/${name('train2014', 4)}`, 0, `train2014/${name('train2014', 4)}`, 'image with no caption'],
    ]);
    assert.deepEqual(
      [r.manifest.rows.caption_records, r.manifest.rows.captions_kept, r.manifest.rows.captions_rejected, r.manifest.rows.images_listed, r.manifest.rows.images_without_caption],
      [11, 10, 1, 6, 2],
    );

    const mapped = await ingest(data, path.join(tmp, 'mapped'), { format: 'coco', splitMap: { val2014: 'test' } });
    assert.deepEqual(mapped.images.map((i) => i.split), ['train', 'train', 'train', 'test', 'test']);
    assert.ok(mapped.captions.every((c) => c.split === (c.image_id.includes('val2014') ? 'test' : 'train')));
    assert.deepEqual(mapped.rejects, r.rejects);
  });
});

test('cocoSource: a file_name that leaves the image folder keeps its path as written (the stage rejects it)', () => {
  const json = JSON.stringify({ images: [{ id: 1, file_name: '../../etc/x.jpg' }], annotations: [{ id: 1, image_id: 1, caption: 'c' }] });
  const s = cocoSource([file('val2014', json)], DEFAULT_SPLIT_MAP);
  assert.deepEqual([s.captions[0].path, s.listedImages[0].path], ['../../etc/x.jpg', '../../etc/x.jpg']);
});
