/** Reading a tokenize artifact back: the vocabulary that train and evaluate share. */
import { ParquetDataset, tableRows } from '@caption/core';
import type { Vocabulary } from './vocabulary.ts';

export async function loadVocabulary(file: string): Promise<Vocabulary> {
  const rows = tableRows<{ id: number; token: string; count: number }>(await new ParquetDataset(file).load());
  rows.sort((a, b) => a.id - b.id);
  return { tokens: rows.map((r) => r.token), counts: rows.map((r) => r.count) };
}
