/**
 * The Kaggle Flickr8k `captions.txt`: a CSV with header `image,caption`; captions holding commas are
 * double-quoted (`""` escapes a quote). Caption numbers follow each image's order of appearance.
 */
import type { CaptionRecord, CaptionSource, RejectRow } from '../rows.ts';
import { imagePath } from '../split.ts';
import { decodeLines } from './text.ts';

export function kaggleCsvSource(bytes: Uint8Array, source: string, imageDir: string): CaptionSource {
  const captions: CaptionRecord[] = [];
  const rejects: RejectRow[] = [];
  const perImage = new Map<string, number>();
  let recordsRead = 0;
  for (const { record, text: raw, utf8 } of decodeLines(bytes)) {
    if (raw.trim() === '') continue;
    if (record === 1 && /^\s*image\s*,\s*caption\s*$/i.test(raw)) continue; // header
    recordsRead++;
    const reject = (reason: string) => rejects.push({ source, record, raw, reason });
    if (!utf8) { reject('non-UTF-8 bytes'); continue; }
    const comma = raw.indexOf(',');
    if (comma < 0) { reject('line without comma'); continue; }
    const image = raw.slice(0, comma).trim();
    const caption = unquote(raw.slice(comma + 1).trim());
    if (!image) { reject('empty image name'); continue; }
    if (caption === undefined) { reject('unterminated quoted caption'); continue; }
    if (caption === '') { reject('empty caption'); continue; }
    const index = perImage.get(image) ?? 0;
    perImage.set(image, index + 1);
    captions.push({ image_id: image, path: imagePath(imageDir, image), caption_index: index, caption, source, record, raw });
  }
  return {
    format: 'kaggle-csv', captions, rejects, recordsRead,
    splitRecordsRead: 0, splitRejects: [], imageDirs: [imageDir], listedImages: [],
  };
}

function unquote(field: string): string | undefined {
  if (!field.startsWith('"')) return field;
  if (field.length < 2 || !field.endsWith('"')) return undefined;
  return field.slice(1, -1).replace(/""/g, '"').trim();
}
