/**
 * Karpathy split files (`dataset_flickr8k.json`, `dataset_coco.json`, ...):
 * `images[].{filename, filepath?, split, sentences[].raw}`. `split` goes through `splitMap`
 * (restval -> train, val -> dev by default; a value it does not name -> none). Image paths are
 * `<imageRoot>/<filepath>/<filename>`. An entry without `filename` or `split` has its sentences rejected saying so.
 */
import { PipelineError } from '@caption/core';
import type { CaptionRecord, CaptionSource, RejectRow, Split } from '../rows.ts';
import { imagePath } from '../split.ts';
import { decodeUtf8 } from './text.ts';

interface KarpathyJson {
  images?: { filename?: string; filepath?: string; split?: string; sentences?: { raw?: string; sentid?: number }[] }[];
}

export function karpathySource(
  source: string,
  bytes: Uint8Array,
  imageRoot: (filepath?: string) => string, // folder the image paths are relative to
  splitMap: Record<string, Split>,
): CaptionSource {
  let json: KarpathyJson;
  try {
    json = JSON.parse(decodeUtf8(bytes, source)) as KarpathyJson;
    if (!Array.isArray(json.images)) throw new Error('expected an "images" array');
  } catch (err) {
    throw new PipelineError('input', `${source}: not a Karpathy split file (${(err as Error).message})`);
  }
  const captions: CaptionRecord[] = [];
  const rejects: RejectRow[] = [];
  const splitOf = new Map<string, Split>();
  const listedImages: CaptionSource['listedImages'] = [];
  let recordsRead = 0;
  json.images!.forEach((img, i) => {
    // an entry that cannot be placed: each of its sentences is rejected saying why
    const problem = typeof img.filename !== 'string' || !img.filename ? { reason: 'missing field filename', detail: `images[${i}] has no "filename"` }
      : typeof img.split !== 'string' ? { reason: 'missing field split', detail: `images[${i}] (${img.filename}) has no "split"` }
        : undefined;
    const rel = problem ? '' : imagePath(imageRoot(img.filepath), [img.filepath, img.filename].filter(Boolean).join('/'));
    const id = img.filepath ? `${img.filepath}/${img.filename}` : img.filename ?? '';
    if (!problem) {
      listedImages.push({ image_id: id, path: rel, source, record: i + 1 });
      splitOf.set(id, splitMap[img.split!] ?? 'none'); // a split the map does not name: kept, in no split (counted as none)
    }
    (img.sentences ?? []).forEach((s, k) => {
      recordsRead++;
      const record = recordsRead; // sentence ordinal in the file
      const raw = typeof s.raw === 'string' ? s.raw : JSON.stringify(s);
      const caption = typeof s.raw === 'string' ? s.raw.trim() : '';
      if (problem) return rejects.push({ source: `${source}#sentences`, record, raw, ...problem });
      if (caption === '') return rejects.push({ source: `${source}#sentences`, record, raw, reason: 'empty caption' });
      captions.push({ image_id: id, path: rel, caption_index: k, caption, source: `${source}#sentences`, record, raw });
    });
  });
  return {
    format: 'karpathy', captions, rejects, recordsRead, splitOf,
    splitRecordsRead: 0, splitRejects: [], imageDirs: [], listedImages,
  };
}
