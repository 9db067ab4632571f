import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as arrow from 'apache-arrow';
import { CAPTIONS, IMAGES, REJECTS, type CaptionRow, type ImageRow, type RejectRow } from '../src/catalog.ts';
import { tableOf } from '../src/io/datasets.ts';
import { decodeParquet, encodeParquet, tableRows } from '../src/io/tables.ts';

const imagesTable = (rows: ImageRow[]) => tableOf(IMAGES, rows);
const captionsTable = (rows: CaptionRow[]) => tableOf(CAPTIONS, rows);
const rejectsTable = (rows: (Omit<RejectRow, 'detail'> & { detail?: string })[]) => tableOf(REJECTS, rows.map((r) => ({ ...r, detail: r.detail ?? '' })));

const roundTrip = <T>(table: arrow.Table) => {
  const back = decodeParquet(encodeParquet(table));
  return { rows: tableRows<T>(back), types: Object.fromEntries(back.schema.fields.map((f) => [f.name, String(f.type)])) };
};

test('catalog images table: columns and types (orientation int32, bytes int64) survive Parquet', () => {
  const rows: ImageRow[] = [
    { image_id: 'a.jpg', path: 'Images/a.jpg', split: 'train', sha256: 'ab'.repeat(32), width: 500, height: 375, format: 'jpeg', bytes: 2 ** 33, orientation: 6 },
    { image_id: 'b.png', path: 'Images/b.png', split: 'none', sha256: 'cd'.repeat(32), width: 1, height: 2, format: 'png', bytes: 3, orientation: 1 },
  ];
  const { rows: back, types } = roundTrip<ImageRow>(imagesTable(rows));
  assert.deepEqual(back, rows);
  assert.deepEqual(types, {
    image_id: 'Utf8', path: 'Utf8', split: 'Utf8', sha256: 'Utf8', width: 'Int32', height: 'Int32', format: 'Utf8', bytes: 'Int64', orientation: 'Int32',
  });
});

test('catalog captions and rejects tables: round trip; a reject without detail reads back as ""', () => {
  const caps: CaptionRow[] = [{ image_id: 'a.jpg', caption_index: 4, caption: 'A "quoted", café caption', split: 'dev' }];
  assert.deepEqual(roundTrip<CaptionRow>(captionsTable(caps)).rows, caps);
  const rejects = [
    { source: 'Flickr8k_text/Flickr8k.token.txt', record: 7, raw: 'x\ty', reason: 'image file missing' },
    { source: 'Images/b.jpg', record: 0, raw: 'Images/b.jpg', reason: 'corrupt or truncated image', detail: 'VipsJpeg: premature end of JPEG image' },
  ];
  const { rows, types } = roundTrip<RejectRow>(rejectsTable(rejects));
  assert.deepEqual(rows, [{ ...rejects[0], detail: '' }, rejects[1]]);
  assert.deepEqual(types, { source: 'Utf8', record: 'Int32', raw: 'Utf8', reason: 'Utf8', detail: 'Utf8' });
  assert.equal(rejectsTable([]).numRows, 0);
});
