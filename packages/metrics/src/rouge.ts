// ROUGE-L exactly as pycocoevalcap computes it: `Rouge().compute_score` (rouge/rouge.py, beta = 1.2).
// Note pycocoevalcap's Rouge tokenizes with `str.split(" ")` (single spaces, unlike BLEU/CIDEr's `str.split()`),
// so e.g. an empty caption is one empty token; inputs here are expected to be single-space tokenized.

import type { CorpusMetric } from './cider.ts';

export const ROUGE_BETA = 1.2;

/** Length of the longest common subsequence of two token lists (rouge.py `my_lcs`). */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  const [long, short] = a.length < b.length ? [b, a] : [a, b];
  let previous = new Array<number>(short.length + 1).fill(0);
  for (let i = 1; i <= long.length; i++) {
    const current = new Array<number>(short.length + 1).fill(0);
    for (let j = 1; j <= short.length; j++) {
      current[j] = long[i - 1] === short[j - 1] ? previous[j - 1] + 1 : Math.max(previous[j], current[j - 1]);
    }
    previous = current;
  }
  return previous[short.length];
}

/** rouge.py `calc_score`: max precision and max recall over references (taken independently), then F_beta. */
export function sentenceRougeL(hypothesis: string, references: readonly string[]): number {
  if (references.length === 0) throw new Error('sentenceRougeL: no references');
  const candidate = hypothesis.split(' ');
  let precisionMax = -Infinity;
  let recallMax = -Infinity;
  for (const reference of references) {
    const tokens = reference.split(' ');
    const lcs = lcsLength(tokens, candidate);
    precisionMax = Math.max(precisionMax, lcs / candidate.length);
    recallMax = Math.max(recallMax, lcs / tokens.length);
  }
  if (precisionMax === 0 || recallMax === 0) return 0;
  const beta2 = ROUGE_BETA ** 2;
  return ((1 + beta2) * precisionMax * recallMax) / (recallMax + beta2 * precisionMax);
}

/** Corpus (mean of per-image) and per-image ROUGE-L; reference ids without a hypothesis are ignored. */
export function corpusRougeL(hypotheses: Map<string, string>, references: Map<string, string[]>): CorpusMetric {
  const perImage = new Map<string, number>();
  let total = 0;
  for (const [id, hypothesis] of hypotheses) {
    const refs = references.get(id);
    if (refs === undefined || refs.length === 0) throw new Error(`corpusRougeL: hypothesis "${id}" has no references`);
    const score = sentenceRougeL(hypothesis, refs);
    perImage.set(id, score);
    total += score;
  }
  return { score: perImage.size === 0 ? NaN : total / perImage.size, perImage };
}
