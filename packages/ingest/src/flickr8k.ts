/**
 * The Flickr8k text layout, parsed without touching the disk:
 *   Flickr8k.token.txt          `<image>.jpg#<n>\t<caption>` per line
 *   Flickr_8k.{train,dev,test}Images.txt   one image file name per line
 */
import type { CaptionRow, RejectRow, Split } from './rows.ts';

export const FLICKR8K_FILES = {
  tokens: 'Flickr8k_text/Flickr8k.token.txt',
  splits: {
    train: 'Flickr8k_text/Flickr_8k.trainImages.txt',
    dev: 'Flickr8k_text/Flickr_8k.devImages.txt',
    test: 'Flickr8k_text/Flickr_8k.testImages.txt',
  },
  imageDirs: ['Flicker8k_Dataset', 'Images'],
} as const;

export type ParsedCaption = Omit<CaptionRow, 'split'> & { record: number; raw: string };

export interface ParsedCaptions {
  captions: ParsedCaption[];
  rejects: RejectRow[];
  linesRead: number;
  source: string;
}

/** Parse the token file. Blank lines are not records; every other line is kept or rejected with a reason. */
export function parseTokenFile(text: string, source: string = FLICKR8K_FILES.tokens): ParsedCaptions {
  const captions: ParsedCaption[] = [];
  const rejects: RejectRow[] = [];
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  let linesRead = 0;
  lines.forEach((raw, i) => {
    if (raw.trim() === '') return;
    linesRead++;
    const reject = (reason: string) => rejects.push({ source, record: i + 1, raw, reason });
    const tab = raw.indexOf('\t');
    if (tab < 0) return reject('line without tab');
    const id = raw.slice(0, tab).trim();
    const caption = raw.slice(tab + 1).trim();
    const m = /^(.+)#(\d+)$/.exec(id);
    if (!m) return reject('caption id without #n');
    if (caption === '') return reject('empty caption');
    if (seen.has(id)) return reject('duplicate caption id');
    seen.add(id);
    captions.push({ image_id: m[1], caption_index: Number(m[2]), caption, record: i + 1, raw });
  });
  return { captions, rejects, linesRead, source };
}

/** image file name -> split, from the three split lists (an image in none of them is 'none'). */
export function parseSplitLists(lists: Partial<Record<Exclude<Split, 'none'>, string>>): Map<string, Split> {
  const splitOf = new Map<string, Split>();
  for (const split of ['train', 'dev', 'test'] as const) {
    for (const line of (lists[split] ?? '').split(/\r?\n/)) {
      const name = line.trim();
      if (name) splitOf.set(name, split);
    }
  }
  return splitOf;
}
