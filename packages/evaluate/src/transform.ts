/**
 * Pure evaluation logic: references and predictions -> BLEU, the best constant-caption baseline and the
 * report rows. Text on both sides goes through the same standardisation as training (tokenize's).
 */
import { standardize } from '@caption/tokenize';
import { corpusBleu, type BleuByOrder } from './bleu.ts';

export interface EvaluationInput {
  references: Map<string, string[]>;   // image -> reference captions (raw)
  predictions: Map<string, string>;    // image -> predicted caption (decoded words)
  trainCaptions: string[];             // raw train captions, candidates for the constant baseline
  baselineCandidates: number;
  samples: number;
}

export interface BleuReport {
  images: number;
  bleu: BleuByOrder;                    // corpus BLEU-1..4
  baseline: { caption: string; bleu: BleuByOrder };
  perImage: { image_id: string; prediction: string; bleu: BleuByOrder }[];
  samples: { image_id: string; prediction: string; references: string[] }[];
}

export const normalise = (s: string) => standardize(s).join(' ');

export function evaluateCaptions(input: EvaluationInput): BleuReport {
  const refs = new Map([...input.references].map(([id, rs]) => [id, rs.map(normalise)]));
  const hyps = new Map([...input.predictions].map(([id, p]) => [id, normalise(p)]));
  const scores = corpusBleu(hyps, refs);
  const ids = [...hyps.keys()];
  return {
    images: ids.length,
    bleu: scores.bleu,
    baseline: bestConstantCaption(input.trainCaptions, refs, ids, input.baselineCandidates),
    perImage: ids.map((id) => ({ image_id: id, prediction: hyps.get(id)!, bleu: scores.perImage.get(id)! })),
    samples: ids.slice(0, input.samples).map((id) => ({ image_id: id, prediction: hyps.get(id)!, references: refs.get(id)! })),
  };
}

/**
 * The strongest "ignore the image" system: the same caption for every image. Candidates are the most
 * frequent train captions (ties alphabetical); the one scoring best BLEU-4 on the evaluated images wins,
 * which makes it an upper bound for constant captions drawn from train — a conservative bar to beat.
 */
export function bestConstantCaption(train: string[], refs: Map<string, string[]>, ids: string[], candidates: number) {
  const counts = new Map<string, number>();
  for (const c of train.map(normalise)) if (c) counts.set(c, (counts.get(c) ?? 0) + 1);
  const ranked = [...counts].sort(([a, na], [b, nb]) => nb - na || (a < b ? -1 : 1)).slice(0, candidates);
  let best = { caption: '', bleu: [0, 0, 0, 0] as BleuByOrder };
  for (const [caption] of ranked) {
    const { bleu } = corpusBleu(new Map(ids.map((id) => [id, caption])), refs);
    if (bleu[3] > best.bleu[3]) best = { caption, bleu };
  }
  return best;
}
