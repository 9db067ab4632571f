// CIDEr-D exactly as pycocoevalcap computes it: cider_scorer.py `CiderScorer(n=4, sigma=6.0)` over token lists
// (`CiderD`: self-critical training scores token ids with it), and `Cider().compute_score` over pre-tokenized
// strings split like Python's `str.split()` (`corpusCider`: the evaluate stage). Quirks kept on purpose (they are what the reference scores contain):
//  - document frequency counts, per n-gram, the images whose references contain it, over the reference sets the
//    scorer is built from; idf = log(#images) - log(max(1, df)), so with a single image every weight is 0;
//  - the Gaussian length penalty uses the *bigram* count as "length" (`if n == 1: length += term_freq`,
//    where n is the 0-based n-gram index), i.e. max(0, tokens - 1);
//  - the CIDEr-D clipping `min(vec_hyp, vec_ref) * vec_ref` in the numerator, divided by the unclipped norms.
import { tokenizeForBleu } from './bleu.ts';

export const CIDER_MAX_ORDER = 4;
export const CIDER_SIGMA = 6;

type Tokens = readonly (string | number)[];
type NgramCounts = Map<string, { order: number; count: number }>;

interface TfIdf {
  vec: Map<string, number>[]; // one tf-idf vector per order (index 0 = unigrams)
  norm: number[];
  length: number;             // pycocoevalcap's "length": the number of bigrams
}

/** n-gram counts for n = 1..4 in precook's insertion order (by n, then position); keys join tokens with ' '. */
function precook(tokens: Tokens): NgramCounts {
  const counts: NgramCounts = new Map();
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

/**
 * A CIDEr-D scorer whose document frequencies come from a set of images' references: the evaluated images
 * (pycocoevalcap semantics, `corpusCider`) or the whole train split (the self-critical reward).
 */
export class CiderD {
  private readonly documentFrequency = new Map<string, number>();
  private readonly refLen: number;
  private readonly cooked = new WeakMap<readonly Tokens[], TfIdf[]>();

  constructor(referenceSets: Iterable<readonly Tokens[]>) {
    let images = 0;
    for (const refs of referenceSets) {
      images++;
      // compute_doc_freq: each image counts once per n-gram present in any of its references
      const seen = new Set<string>();
      for (const ref of refs) for (const ngram of precook(ref).keys()) seen.add(ngram);
      for (const ngram of seen) this.documentFrequency.set(ngram, (this.documentFrequency.get(ngram) ?? 0) + 1);
    }
    this.refLen = Math.log(images);
  }

  /** CIDEr-D (×10, as pycocoevalcap reports it) of one candidate against its image's references. */
  score(candidate: Tokens, references: readonly Tokens[]): number {
    if (references.length === 0) throw new Error('CiderD: a candidate needs at least one reference');
    let refs = this.cooked.get(references); // a reference set is scored against many candidates (self-critical samples)
    if (!refs) this.cooked.set(references, (refs = references.map((r) => this.vector(precook(r)))));
    const hyp = this.vector(precook(candidate));
    let sum = 0;
    for (const ref of refs) for (const v of similarity(hyp, ref)) sum += v;
    return (sum / CIDER_MAX_ORDER / refs.length) * 10;
  }

  private vector(counts: NgramCounts): TfIdf {
    const vec = Array.from({ length: CIDER_MAX_ORDER }, () => new Map<string, number>());
    const squares: number[] = new Array<number>(CIDER_MAX_ORDER).fill(0);
    let length = 0;
    for (const [ngram, { order, count }] of counts) {
      const df = Math.log(Math.max(1, this.documentFrequency.get(ngram) ?? 0));
      const k = order - 1;
      const weight = count * (this.refLen - df);
      vec[k].set(ngram, weight);
      squares[k] += weight ** 2;
      if (k === 1) length += count;
    }
    return { vec, norm: squares.map(Math.sqrt), length };
  }
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
