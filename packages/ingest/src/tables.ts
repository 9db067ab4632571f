/** Row objects -> Arrow tables with explicit column types (the Parquet schema users see). */
import { int32, int64, makeTable, utf8 } from '@caption/core';
import type { CaptionRow, ImageRow, RejectRow } from './rows.ts';

const col = <R, K extends keyof R>(rows: R[], k: K) => rows.map((r) => r[k]);

export const imagesTable = (rows: ImageRow[]) =>
  makeTable({
    image_id: utf8(col(rows, 'image_id')),
    path: utf8(col(rows, 'path')),
    split: utf8(col(rows, 'split')),
    sha256: utf8(col(rows, 'sha256')),
    width: int32(col(rows, 'width')),
    height: int32(col(rows, 'height')),
    format: utf8(col(rows, 'format')),
    bytes: int64(col(rows, 'bytes')),
    orientation: int32(col(rows, 'orientation')),
  });

export const captionsTable = (rows: CaptionRow[]) =>
  makeTable({
    image_id: utf8(col(rows, 'image_id')),
    caption_index: int32(col(rows, 'caption_index')),
    caption: utf8(col(rows, 'caption')),
    split: utf8(col(rows, 'split')),
  });

export const rejectsTable = (rows: RejectRow[]) =>
  makeTable({
    source: utf8(col(rows, 'source')),
    record: int32(col(rows, 'record')),
    raw: utf8(col(rows, 'raw')),
    reason: utf8(col(rows, 'reason')),
    detail: utf8(rows.map((r) => r.detail ?? '')),
  });
