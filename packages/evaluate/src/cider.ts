// CIDEr-D exactly as pycocoevalcap computes it: `Cider().compute_score`, i.e. cider_scorer.py
// `CiderScorer(n=4, sigma=6.0).compute_score()` (the scorer and its quirks: @caption/train's cider-d.ts, which
// self-critical training shares). Inputs are pre-tokenized strings split like Python's `str.split()`.
import { CiderD } from '@caption/train';
import { tokenizeForBleu } from './bleu.ts';

export interface CorpusMetric {
  /** Corpus score: mean of the per-image scores. */
  score: number;
  /** Per-image score per hypothesis id, in hypothesis order. */
  perImage: Map<string, number>;
}

/**
 * Corpus and per-image CIDEr-D for one hypothesis per id against that id's references. Document frequencies and
 * the log image count come from the references of the hypothesized ids only (pycocoevalcap scores exactly the
 * ids it is given); reference ids without a hypothesis are ignored.
 */
export function corpusCider(hypotheses: Map<string, string>, references: Map<string, string[]>): CorpusMetric {
  const refs = new Map<string, string[][]>();
  for (const id of hypotheses.keys()) {
    const r = references.get(id);
    if (r === undefined || r.length === 0) throw new Error(`corpusCider: hypothesis "${id}" has no references`);
    refs.set(id, r.map(tokenizeForBleu));
  }
  const scorer = new CiderD(refs.values());
  const perImage = new Map<string, number>();
  let total = 0;
  for (const [id, hypothesis] of hypotheses) {
    const score = scorer.score(tokenizeForBleu(hypothesis), refs.get(id)!);
    perImage.set(id, score);
    total += score;
  }
  return { score: hypotheses.size === 0 ? NaN : total / hypotheses.size, perImage };
}
