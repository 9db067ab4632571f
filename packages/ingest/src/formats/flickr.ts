/**
 * Flickr8k and Flickr30k text layouts (the same line format):
 *   Flickr8k.token.txt / Flickr8k.lemma.token.txt / results_20130124.token   `<image>#<n>\t<caption>`
 *   Flickr_8k.{train,dev,test}Images.txt                                      one image file name per line
 */
import type { CaptionRecord, CaptionSource, RejectRow, Split } from '../rows.ts';
import { imagePath } from '../split.ts';
import { decodeLines } from './text.ts';

/** Parse a token file. Blank lines are not records; every other line is kept or rejected with a reason. */
export function parseTokenFile(bytes: Uint8Array, source: string, imageDir: string) {
  const captions: CaptionRecord[] = [];
  const rejects: RejectRow[] = [];
  const seen = new Set<string>();
  let recordsRead = 0;
  for (const { record, text: raw, utf8 } of decodeLines(bytes)) {
    if (raw.trim() === '') continue;
    recordsRead++;
    const reject = (reason: string) => rejects.push({ source, record, raw, reason });
    if (!utf8) { reject('non-UTF-8 bytes'); continue; }
    const tab = raw.indexOf('\t');
    if (tab < 0) { reject('line without tab'); continue; }
    const id = raw.slice(0, tab).trim();
    const caption = raw.slice(tab + 1).trim();
    const m = /^(.+)#(\d+)$/.exec(id);
    if (!m) { reject('caption id without #n'); continue; }
    if (caption === '') { reject('empty caption'); continue; }
    if (seen.has(id)) { reject('duplicate caption id'); continue; }
    seen.add(id);
    captions.push({ image_id: m[1], path: imagePath(imageDir, m[1]), caption_index: Number(m[2]), caption, source, record, raw });
  }
  return { captions, rejects, recordsRead };
}

/**
 * image file name -> split, from the split lists. An entry naming an image no caption mentions, or an
 * image already listed in another split, is rejected (first listing wins), so no image leaks between splits.
 */
export function parseSplitLists(lists: { split: Exclude<Split, 'none'>; source: string; bytes: Uint8Array }[], known: Set<string>) {
  const splitOf = new Map<string, Split>();
  const rejects: RejectRow[] = [];
  let recordsRead = 0;
  for (const { split, source, bytes } of lists) {
    for (const { record, text, utf8 } of decodeLines(bytes)) {
      const name = text.trim();
      if (!name) continue;
      recordsRead++;
      const reject = (reason: string) => rejects.push({ source, record, raw: text, reason });
      if (!utf8) reject('non-UTF-8 bytes');
      else if (!known.has(name)) reject('split list names an unknown image');
      else if (splitOf.has(name)) reject(`image already in split '${splitOf.get(name)}'`);
      else splitOf.set(name, split);
    }
  }
  return { splitOf, rejects, recordsRead };
}

export function flickrSource(
  format: string,
  tokens: { source: string; bytes: Uint8Array },
  splitLists: { split: Exclude<Split, 'none'>; source: string; bytes: Uint8Array }[],
  imageDir: string,
): CaptionSource {
  const parsed = parseTokenFile(tokens.bytes, tokens.source, imageDir);
  const splits = splitLists.length ? parseSplitLists(splitLists, new Set(parsed.captions.map((c) => c.image_id))) : undefined;
  return {
    format,
    ...parsed,
    splitOf: splits?.splitOf,
    splitRecordsRead: splits?.recordsRead ?? 0,
    splitRejects: splits?.rejects ?? [],
    imageDirs: [imageDir],
    listedImages: [],
  };
}
