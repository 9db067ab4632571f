/**
 * COCO caption files: `captions_<split><year>.json` with `images[].{id,file_name}` and
 * `annotations[].{id,image_id,caption}`. Each file's split comes from its name through `splitMap`
 * (e.g. val2014 -> dev), so one file per split, or train/val files mapped by params, both work.
 */
import { PipelineError } from '@caption/core';
import type { CaptionRecord, CaptionSource, RejectRow, Split } from '../rows.ts';
import { imagePath } from '../split.ts';
import { decodeUtf8 } from './text.ts';

export interface CocoFile {
  source: string;          // path relative to the data set root
  bytes: Uint8Array;
  splitName: string;       // e.g. 'val2014' from captions_val2014.json
  imageDir: string;        // folder holding this file's images, relative to the root
}

interface CocoJson {
  images?: { id: number; file_name: string }[];
  annotations?: { id?: number; image_id: number; caption: string }[];
}

export function cocoSource(files: CocoFile[], splitMap: Record<string, Split>): CaptionSource {
  const captions: CaptionRecord[] = [];
  const rejects: RejectRow[] = [];
  const splitOf = new Map<string, Split>();
  const listedImages: CaptionSource['listedImages'] = [];
  let recordsRead = 0;
  for (const file of files) {
    const json = parseJson(file);
    const split = splitMap[file.splitName] ?? 'none';
    const byId = new Map<number, string>();
    (json.images ?? []).forEach((img, i) => {
      byId.set(img.id, img.file_name);
      splitOf.set(img.file_name, split);
      listedImages.push({ image_id: img.file_name, path: imagePath(file.imageDir, img.file_name), source: `${file.source}#images`, record: i + 1 });
    });
    const seen = new Set<number>();
    const perImage = new Map<string, number>();
    const source = `${file.source}#annotations`;
    (json.annotations ?? []).forEach((a, i) => {
      recordsRead++;
      const raw = JSON.stringify(a);
      const reject = (reason: string) => rejects.push({ source, record: i + 1, raw, reason });
      const name = byId.get(a.image_id);
      const caption = typeof a.caption === 'string' ? a.caption.trim() : '';
      if (name === undefined) return reject('annotation names an unknown image id');
      if (caption === '') return reject('empty caption');
      if (a.id !== undefined && seen.has(a.id)) return reject('duplicate caption id');
      if (a.id !== undefined) seen.add(a.id);
      const index = perImage.get(name) ?? 0;
      perImage.set(name, index + 1);
      captions.push({ image_id: name, path: imagePath(file.imageDir, name), caption_index: index, caption, source, record: i + 1, raw });
    });
  }
  return {
    format: 'coco', captions, rejects, recordsRead, splitOf,
    splitRecordsRead: 0, splitRejects: [], imageDirs: [...new Set(files.map((f) => f.imageDir))], listedImages,
  };
}

function parseJson(file: CocoFile): CocoJson {
  try {
    const json = JSON.parse(decodeUtf8(file.bytes, file.source)) as CocoJson;
    if (!Array.isArray(json.images) || !Array.isArray(json.annotations)) throw new Error('expected "images" and "annotations" arrays');
    return json;
  } catch (err) {
    throw new PipelineError('input', `${file.source}: not a COCO caption file (${(err as Error).message})`);
  }
}
