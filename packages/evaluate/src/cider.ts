// CIDEr-D exactly as pycocoevalcap computes it: `Cider().compute_score`, i.e. cider_scorer.py
// `CiderScorer(n=4, sigma=6.0).compute_score()`. Inputs are pre-tokenized strings split like Python's
// `str.split()` (cider_scorer's `precook`). Quirks kept on purpose (they are what the reference scores contain):
//  - document frequency counts, per n-gram, the images whose references contain it, over the evaluated images;
//    idf = log(#images) - log(max(1, df)), so with a single image every weight is 0 and every score is 0;
//  - the Gaussian length penalty uses the *bigram* count as "length" (`if n == 1: length += term_freq`,
//    where n is the 0-based n-gram index), i.e. max(0, tokens - 1);
//  - the CIDEr-D clipping `min(vec_hyp, vec_ref) * vec_ref` in the numerator, divided by the unclipped norms.

import { tokenizeForBleu } from './bleu.ts';

export const CIDER_MAX_ORDER = 4;
export const CIDER_SIGMA = 6;

export interface CorpusMetric {
  /** Corpus score: mean of the per-image scores. */
  score: number;
  /** Per-image score per hypothesis id, in hypothesis order. */
  perImage: Map<string, number>;
}

/** n-gram counts for n = 1..4 in precook's insertion order (by n, then position); keys join tokens with ' '. */
function precook(sentence: string): Map<string, { order: number; count: number }> {
  const tokens = tokenizeForBleu(sentence);
  const counts = new Map<string, { order: number; count: number }>();
  for (let n = 1; n <= CIDER_MAX_ORDER; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      const key = tokens.slice(i, i + n).join(' ');
      const entry = counts.get(key);
      if (entry) entry.count++;
      else counts.set(key, { order: n, count: 1 });
    }
  }
  return counts;
}

interface TfIdf {
  /** One tf-idf vector per order (index 0 = unigrams). */
  vec: Map<string, number>[];
  norm: number[];
  /** pycocoevalcap's "length": the number of bigrams. */
  length: number;
}

function countsToVec(
  counts: Map<string, { order: number; count: number }>,
  documentFrequency: Map<string, number>,
  refLen: number,
): TfIdf {
  const vec = Array.from({ length: CIDER_MAX_ORDER }, () => new Map<string, number>());
  const squares: number[] = new Array<number>(CIDER_MAX_ORDER).fill(0);
  let length = 0;
  for (const [ngram, { order, count }] of counts) {
    const df = Math.log(Math.max(1, documentFrequency.get(ngram) ?? 0));
    const k = order - 1;
    const weight = count * (refLen - df);
    vec[k].set(ngram, weight);
    squares[k] += weight ** 2;
    if (k === 1) length += count;
  }
  return { vec, norm: squares.map(Math.sqrt), length };
}

function similarity(hyp: TfIdf, ref: TfIdf): number[] {
  const delta = hyp.length - ref.length;
  const penalty = Math.pow(Math.E, -(delta ** 2) / (2 * CIDER_SIGMA ** 2));
  const val: number[] = new Array<number>(CIDER_MAX_ORDER).fill(0);
  for (let k = 0; k < CIDER_MAX_ORDER; k++) {
    for (const [ngram, weight] of hyp.vec[k]) {
      const refWeight = ref.vec[k].get(ngram) ?? 0;
      val[k] += Math.min(weight, refWeight) * refWeight;
    }
    if (hyp.norm[k] !== 0 && ref.norm[k] !== 0) val[k] /= hyp.norm[k] * ref.norm[k];
    val[k] *= penalty;
  }
  return val;
}

/**
 * Corpus and per-image CIDEr-D for one hypothesis per id against that id's references. Document frequencies and
 * the log image count come from the references of the hypothesized ids only (pycocoevalcap scores exactly the
 * ids it is given); reference ids without a hypothesis are ignored.
 */
export function corpusCider(hypotheses: Map<string, string>, references: Map<string, string[]>): CorpusMetric {
  const cooked: { id: string; hyp: Map<string, { order: number; count: number }>; refs: Map<string, { order: number; count: number }>[] }[] = [];
  for (const [id, hypothesis] of hypotheses) {
    const refs = references.get(id);
    if (refs === undefined || refs.length === 0) throw new Error(`corpusCider: hypothesis "${id}" has no references`);
    cooked.push({ id, hyp: precook(hypothesis), refs: refs.map(precook) });
  }
  // compute_doc_freq: each image counts once per n-gram present in any of its references
  const documentFrequency = new Map<string, number>();
  for (const { refs } of cooked) {
    const seen = new Set<string>();
    for (const ref of refs) for (const ngram of ref.keys()) seen.add(ngram);
    for (const ngram of seen) documentFrequency.set(ngram, (documentFrequency.get(ngram) ?? 0) + 1);
  }
  const refLen = Math.log(cooked.length);

  const perImage = new Map<string, number>();
  let total = 0;
  for (const { id, hyp, refs } of cooked) {
    const hypVec = countsToVec(hyp, documentFrequency, refLen);
    const score: number[] = new Array<number>(CIDER_MAX_ORDER).fill(0);
    for (const ref of refs) {
      const val = similarity(hypVec, countsToVec(ref, documentFrequency, refLen));
      for (let k = 0; k < CIDER_MAX_ORDER; k++) score[k] += val[k];
    }
    let mean = 0;
    for (const s of score) mean += s;
    mean /= CIDER_MAX_ORDER;
    const imageScore = (mean / refs.length) * 10;
    perImage.set(id, imageScore);
    total += imageScore;
  }
  return { score: cooked.length === 0 ? NaN : total / cooked.length, perImage };
}
