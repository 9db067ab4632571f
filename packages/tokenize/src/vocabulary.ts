/**
 * Text standardisation and the vocabulary, as in the TF image-captioning tutorial: lower-case, strip
 * punctuation, `<pad>`=0 `<unk>`=1 `<start>`=2 `<end>`=3, then the top-k train words by count
 * (ties broken alphabetically, so the vocabulary never depends on row order).
 */
import { END, SPECIAL_TOKENS, START, UNK, type Vocabulary } from '@caption/core';

/** Text standardisation options (the TF / Hvass tutorials' choices). */
export interface StandardizeOptions {
  lowercase: boolean;          // fold case
  stripPunctuation: boolean;   // replace punctuation with spaces, keeping '<' and '>' (so <unk> survives)
  dropNumeric: boolean;        // drop tokens containing a digit
  dropSingleChars: boolean;    // drop one-character tokens (e.g. 'a')
}

export const DEFAULT_STANDARDIZE: StandardizeOptions = { lowercase: true, stripPunctuation: true, dropNumeric: false, dropSingleChars: false };

export function standardize(caption: string, opts: StandardizeOptions = DEFAULT_STANDARDIZE): string[] {
  let text = opts.lowercase ? caption.toLowerCase() : caption;
  if (opts.stripPunctuation) text = text.replace(/[^\p{L}\p{N}\s<>]/gu, ' ');
  return text.split(/\s+/).filter((w) => w && !(opts.dropNumeric && /\p{N}/u.test(w)) && !(opts.dropSingleChars && [...w].length === 1));
}

/** The caption length (in words, before <start>/<end>) at this percentile of the given captions. */
export function lengthPercentile(captions: string[][], percentile: number): number {
  if (!captions.length) return 0;
  const lengths = captions.map((c) => c.length).sort((a, b) => a - b);
  return lengths[Math.min(lengths.length - 1, Math.ceil((percentile / 100) * lengths.length) - 1)];
}

export function buildVocabulary(trainCaptions: Iterable<string[]>, vocabSize: number, minCount: number): Vocabulary {
  const counts = new Map<string, number>();
  for (const words of trainCaptions) for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  const ranked = [...counts]
    .filter(([, n]) => n >= minCount)
    .sort(([a, na], [b, nb]) => nb - na || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, vocabSize);
  return {
    tokens: [...SPECIAL_TOKENS, ...ranked.map(([w]) => w)],
    counts: [0, 0, 0, 0, ...ranked.map(([, n]) => n)],
  };
}

export function tokenIndex(vocab: Vocabulary): Map<string, number> {
  return new Map(vocab.tokens.map((t, i) => [t, i]));
}

/** words -> [<start>, ids..., <end>], truncated to maxLength (the <end> is kept). */
export function encodeWords(words: string[], index: Map<string, number>, maxLength: number): { ids: Int32Array; truncated: boolean } {
  const body = words.slice(0, maxLength - 2).map((w) => index.get(w) ?? UNK);
  return { ids: Int32Array.from([START, ...body, END]), truncated: words.length > maxLength - 2 };
}
