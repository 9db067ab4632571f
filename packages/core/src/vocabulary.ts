/**
 * The vocabulary every stage after tokenize shares: `<pad>`=0 `<unk>`=1 `<start>`=2 `<end>`=3, then words by
 * train-split count. Tokenize builds it; the checkpoint carries it; decoding turns ids back into words with it.
 */
import type { VocabularyRow } from './catalog.ts';

export const PAD = 0;
export const UNK = 1;
export const START = 2;
export const END = 3;
export const SPECIAL_TOKENS = ['<pad>', '<unk>', '<start>', '<end>'] as const;

export interface Vocabulary {
  tokens: string[];               // id -> token
  counts: number[];               // train-split count per id (0 for special tokens)
}

/** The vocabulary as table rows (id, token, count), and back. */
export const vocabularyRows = (v: Vocabulary): VocabularyRow[] => v.tokens.map((token, id) => ({ id, token, count: v.counts[id] }));

export function vocabularyFromRows(rows: readonly VocabularyRow[]): Vocabulary {
  const sorted = [...rows].sort((a, b) => a.id - b.id);
  return { tokens: sorted.map((r) => r.token), counts: sorted.map((r) => r.count) };
}

/** ids -> text, stopping at <end>, skipping <start>/<pad>. */
export function decodeIds(ids: ArrayLike<number>, vocab: Vocabulary): string {
  const words: string[] = [];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (id === END) break;
    if (id === START || id === PAD) continue;
    words.push(vocab.tokens[id] ?? '<unk>');
  }
  return words.join(' ');
}
