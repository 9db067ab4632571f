// BLEU-1..4 exactly as pycocoevalcap computes it: `Bleu(4).compute_score`, which calls
// bleu_scorer.py `BleuScorer.compute_score(option='closest', verbose=0)`.
// Inputs are pre-tokenized strings; tokens are what Python's `str.split()` yields.

export const BLEU_MAX_ORDER = 4;

/** Scores for orders 1..4, index 0 = BLEU-1. */
export type BleuByOrder = [number, number, number, number];

export interface BleuScores {
  /** Corpus-level Bleu_1..Bleu_4 (pycocoevalcap's `score`). */
  bleu: BleuByOrder;
  /** Sentence-level Bleu_1..Bleu_4 per hypothesis id (pycocoevalcap's `scores`), in hypothesis order. */
  perImage: Map<string, BleuByOrder>;
  /** Total hypothesis length in tokens. */
  testLength: number;
  /** Sum over hypotheses of the closest reference length (ties -> shorter). */
  referenceLength: number;
}

/** Python 3 `str.isspace()` characters, so splitting matches `s.split()` with no argument. */
const PY_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

// pycocoevalcap constants: tiny keeps a zero-match precision at ~0, small avoids division by zero.
const TINY = 1e-15;
const SMALL = 1e-9;

export function tokenizeForBleu(sentence: string): string[] {
  return sentence.split(PY_WHITESPACE).filter((token) => token.length > 0);
}

/** n-gram counts for n = 1..4; keys join tokens with ' ' (tokens never contain whitespace). */
function countNgrams(tokens: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (let n = 1; n <= BLEU_MAX_ORDER; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      const key = tokens.slice(i, i + n).join(' ');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

interface SentenceStats {
  testLength: number;
  referenceLength: number;
  guess: number[];
  correct: number[];
}

function sentenceStats(hypothesis: string, references: readonly string[]): SentenceStats {
  // cook_refs: per-reference lengths and, per n-gram, its max count over references (clipping).
  const referenceLengths: number[] = [];
  const maxCounts = new Map<string, number>();
  for (const reference of references) {
    const tokens = tokenizeForBleu(reference);
    referenceLengths.push(tokens.length);
    for (const [ngram, count] of countNgrams(tokens)) {
      maxCounts.set(ngram, Math.max(maxCounts.get(ngram) ?? 0, count));
    }
  }
  // cook_test
  const tokens = tokenizeForBleu(hypothesis);
  const testLength = tokens.length;
  const guess = Array.from({ length: BLEU_MAX_ORDER }, (_, k) => Math.max(0, testLength - k));
  const correct: number[] = new Array<number>(BLEU_MAX_ORDER).fill(0);
  for (const [ngram, count] of countNgrams(tokens)) {
    const order = ngram.split(' ').length;
    correct[order - 1] += Math.min(maxCounts.get(ngram) ?? 0, count);
  }
  return { testLength, referenceLength: closestReferenceLength(referenceLengths, testLength), guess, correct };
}

/** `min((abs(l - testlen), l) for l in reflens)[1]`: closest length, ties broken by the shorter one. */
function closestReferenceLength(referenceLengths: readonly number[], testLength: number): number {
  let best = referenceLengths[0];
  for (const length of referenceLengths) {
    const distance = Math.abs(length - testLength);
    const bestDistance = Math.abs(best - testLength);
    if (distance < bestDistance || (distance === bestDistance && length < best)) best = length;
  }
  return best;
}

/** Same arithmetic (and operation order) for the per-sentence and corpus scores in compute_score. */
function bleuFromCounts(
  correct: readonly number[],
  guess: readonly number[],
  testLength: number,
  referenceLength: number,
): BleuByOrder {
  const scores: number[] = [];
  let product = 1;
  for (let k = 0; k < BLEU_MAX_ORDER; k++) {
    product *= (correct[k] + TINY) / (guess[k] + SMALL);
    scores.push(product ** (1 / (k + 1)));
  }
  const ratio = (testLength + TINY) / (referenceLength + SMALL);
  if (ratio < 1) {
    const brevityPenalty = Math.exp(1 - 1 / ratio);
    for (let k = 0; k < BLEU_MAX_ORDER; k++) scores[k] *= brevityPenalty;
  }
  return scores as BleuByOrder;
}

/**
 * Corpus and per-image BLEU-1..4 for one hypothesis per id against that id's references.
 * Every hypothesis id must have at least one reference; reference ids without a hypothesis are ignored.
 */
export function corpusBleu(hypotheses: Map<string, string>, references: Map<string, string[]>): BleuScores {
  const perImage = new Map<string, BleuByOrder>();
  const totalGuess: number[] = new Array<number>(BLEU_MAX_ORDER).fill(0);
  const totalCorrect: number[] = new Array<number>(BLEU_MAX_ORDER).fill(0);
  let testLength = 0;
  let referenceLength = 0;
  for (const [id, hypothesis] of hypotheses) {
    const refs = references.get(id);
    if (refs === undefined || refs.length === 0) {
      throw new Error(`corpusBleu: hypothesis "${id}" has no references`);
    }
    const stats = sentenceStats(hypothesis, refs);
    testLength += stats.testLength;
    referenceLength += stats.referenceLength;
    for (let k = 0; k < BLEU_MAX_ORDER; k++) {
      totalGuess[k] += stats.guess[k];
      totalCorrect[k] += stats.correct[k];
    }
    perImage.set(id, bleuFromCounts(stats.correct, stats.guess, stats.testLength, stats.referenceLength));
  }
  const bleu = bleuFromCounts(totalCorrect, totalGuess, testLength, referenceLength);
  return { bleu, perImage, testLength, referenceLength };
}
