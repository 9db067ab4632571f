import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { kaggleCsvSource } from '../../src/formats/kaggle-csv.ts';
import { assertCountsAddUp, ingest, makeImage, withTmp, writeFiles } from '../fixtures.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const read = (text: string | Uint8Array) => kaggleCsvSource(typeof text === 'string' ? enc(text) : text, 'captions.txt', 'Images');

test('kaggleCsvSource: header skipped, quoted captions unquoted ("" is a quote), numbers per image in order of appearance', () => {
  const s = read([
    'image,caption',
    'a.jpg,A dog runs .',
    'b.jpg,"A cat, sitting on a mat ."',
    'a.jpg,"He said ""sit"" , and it sat ."',
    'a.jpg,  a third one  ',
    'b.jpg,"  padded inside quotes  "',
    'b.jpg,unquoted "inner" quotes, and a comma',
  ].join('\n'));
  assert.deepEqual(s.rejects, []);
  assert.equal(s.recordsRead, 6);
  assert.deepEqual(s.captions.map((c) => [c.image_id, c.path, c.caption_index, c.caption, c.record]), [
    ['a.jpg', 'Images/a.jpg', 0, 'A dog runs .', 2],
    ['b.jpg', 'Images/b.jpg', 0, 'A cat, sitting on a mat .', 3],
    ['a.jpg', 'Images/a.jpg', 1, 'He said "sit" , and it sat .', 4],
    ['a.jpg', 'Images/a.jpg', 2, 'a third one', 5],
    ['b.jpg', 'Images/b.jpg', 1, 'padded inside quotes', 6],
    ['b.jpg', 'Images/b.jpg', 2, 'unquoted "inner" quotes, and a comma', 7],
  ]);
  assert.equal(s.captions[1].raw, 'b.jpg,"A cat, sitting on a mat ."');
  assert.deepEqual([s.format, s.splitOf, s.imageDirs, s.listedImages, s.splitRecordsRead], ['kaggle-csv', undefined, ['Images'], [], 0]);
});

test('kaggleCsvSource: BOM + CRLF header is still a header; without a header the first line is a record', () => {
  const bom = read(Uint8Array.from([0xef, 0xbb, 0xbf, ...enc('image,caption\r\na.jpg,x\r\n')]));
  assert.deepEqual(bom.captions.map((c) => [c.caption, c.record]), [['x', 2]]);
  assert.equal(bom.recordsRead, 1);
  const noHeader = read('a.jpg,x\nb.jpg,y\n');
  assert.deepEqual(noHeader.captions.map((c) => [c.image_id, c.record]), [['a.jpg', 1], ['b.jpg', 2]]);
  assert.equal(noHeader.recordsRead, 2);
});

test('kaggleCsvSource: each bad line is rejected with its reason and line number; counts add up', () => {
  const s = read(Uint8Array.from([
    ...enc('image,caption\na.jpg,ok\nno comma here\n,no image\na.jpg,\na.jpg,"   "\na.jpg,"unterminated\n\n'),
    ...enc('a.jpg,bad '), 0xff, ...enc('\n"x.jpg,"x\n'),
  ]));
  assert.deepEqual(s.rejects.map((r) => [r.record, r.reason, r.raw]), [
    [3, 'line without comma', 'no comma here'],
    [4, 'empty image name', ',no image'],
    [5, 'empty caption', 'a.jpg,'],
    [6, 'empty caption', 'a.jpg,"   "'],
    [7, 'unterminated quoted caption', 'a.jpg,"unterminated'],
    [9, 'non-UTF-8 bytes', 'a.jpg,bad \ufffd'],
    [10, 'unterminated quoted caption', '"x.jpg,"x'], // a lone opening quote ('"x') is not a quoted field
  ]);
  assert.ok(s.rejects.every((r) => r.source === 'captions.txt'));
  assert.deepEqual(s.captions.map((c) => [c.image_id, c.caption_index, c.caption, c.record]), [['a.jpg', 0, 'ok', 2]]);
  assert.equal(s.recordsRead, s.captions.length + s.rejects.length);
  assert.equal(s.recordsRead, 8);
});

test('Kaggle captions.txt through the stage: detected, quoted captions intact, seeded split by image, same when forced', async () => {
  await withTmp('kaggle', async (tmp) => {
    const data = path.join(tmp, 'data');
    const names = ['1000268201_693b08cb0e.jpg', '1001773457_577c3a7d70.jpg', '1002674143_1b742ab4b8.jpg', '1003163366_44323f5815.jpg'];
    const rows = names.flatMap((n, i) => [`${n},A plain caption ${i} .`, `${n},"A dog, a cat and ""Rex"" play ${i} ."`]);
    await writeFiles(data, {
      'captions.txt': ['image,caption', ...rows].join('\n') + '\n',
      ...Object.fromEntries(await Promise.all(names.map(async (n, i) => [`Images/${n}`, await makeImage(i, 'jpeg', 16)]))),
    });
    // the image columns come from the file contents: a WebP named .jpg, and a JPEG with EXIF orientation 6
    await writeFiles(data, { [`Images/${names[1]}`]: await makeImage(1, 'webp', 20), [`Images/${names[3]}`]: await makeImage(3, 'jpeg', 24, 6) });
    const r = await ingest(data, path.join(tmp, 'auto'), { splitFractions: { train: 0.5, dev: 0.25, test: 0.25 } });
    assert.equal(r.manifest.extra?.format, 'kaggle-csv');
    assertCountsAddUp(r);
    assert.deepEqual(r.rejects, []);
    assert.equal(r.manifest.rows.caption_records, 8);
    assert.deepEqual(r.images.map((i) => i.path), names.map((n) => `Images/${n}`));
    assert.deepEqual(r.images.map((i) => [i.format, i.width, i.orientation]), [['jpeg', 16, 1], ['webp', 20, 1], ['jpeg', 16, 1], ['jpeg', 24, 6]]);
    assert.deepEqual(r.captions.filter((c) => c.image_id === names[2]).map((c) => [c.caption_index, c.caption]), [
      [0, 'A plain caption 2 .'],
      [1, 'A dog, a cat and "Rex" play 2 .'],
    ]);
    assert.deepEqual(r.images.map((i) => i.split).sort(), ['dev', 'test', 'train', 'train']);
    const splitOf = new Map(r.images.map((i) => [i.image_id, i.split]));
    for (const c of r.captions) assert.equal(c.split, splitOf.get(c.image_id));

    const forced = await ingest(data, path.join(tmp, 'forced'), { format: 'kaggle-csv', splitFractions: { train: 0.5, dev: 0.25, test: 0.25 } });
    assert.deepEqual([forced.images, forced.captions], [r.images, r.captions]);
  });
});

test('kaggleCsvSource: an image name that leaves the image folder keeps its path as written (the stage rejects it)', () => {
  const s = read('../x.jpg,up\n/etc/passwd,abs\nsub/a.jpg,ok\n');
  assert.deepEqual(s.captions.map((c) => c.path), ['../x.jpg', '/etc/passwd', 'Images/sub/a.jpg']);
});
