/**
 * Pure evaluation logic: references and predictions -> BLEU-1..4, CIDEr-D and ROUGE-L (pycocoevalcap
 * semantics), the best constant-caption baseline and the report rows. Text on both sides is tokenized the
 * way coco-caption does it (PTB tokens, lowercased, punctuation dropped) before any scoring.
 */
import { corpusBleu, type BleuByOrder, corpusCider, ptbTokenize, corpusRougeL } from '@caption/metrics';

export interface EvaluationInput {
  references: Map<string, string[]>;   // image -> reference captions (raw)
  predictions: Map<string, string>;    // image -> predicted caption (decoded words)
  trainCaptions: string[];             // raw train captions, candidates for the constant baseline
  baselineCandidates: number;
  samples: number;
}

/** One system's scores, in the layout report.json has always used for BLEU. */
export interface SystemScores { bleu: BleuByOrder; ciderD: number; rougeL: number }

export interface EvaluationReport extends SystemScores {
  images: number;
  baseline: SystemScores & { caption: string };
  perImage: ({ image_id: string; prediction: string } & SystemScores)[];
  samples: { image_id: string; prediction: string; references: string[] }[];
}

/** The metrics by the names the quality gate (`evaluate.min`) and scores.parquet use. */
export const METRICS = ['bleu1', 'bleu2', 'bleu3', 'bleu4', 'ciderD', 'rougeL'] as const;
export type MetricName = (typeof METRICS)[number];
export const METRIC_LABELS: Record<MetricName, string> = {
  bleu1: 'BLEU-1', bleu2: 'BLEU-2', bleu3: 'BLEU-3', bleu4: 'BLEU-4', ciderD: 'CIDEr-D', rougeL: 'ROUGE-L',
};

export function metricValues(s: SystemScores): Record<MetricName, number> {
  return { bleu1: s.bleu[0], bleu2: s.bleu[1], bleu3: s.bleu[2], bleu4: s.bleu[3], ciderD: s.ciderD, rougeL: s.rougeL };
}

export const normalise = ptbTokenize;

export function evaluateCaptions(input: EvaluationInput): EvaluationReport {
  const refs = new Map([...input.references].map(([id, rs]) => [id, rs.map(normalise)]));
  const hyps = new Map([...input.predictions].map(([id, p]) => [id, normalise(p)]));
  const ids = [...hyps.keys()];
  const scores = scoreSystem(hyps, refs);
  const baseline = bestConstantCaption(input.trainCaptions, refs, ids, input.baselineCandidates);
  return {
    images: ids.length,
    bleu: scores.bleu,
    ciderD: scores.ciderD,
    rougeL: scores.rougeL,
    baseline: { caption: baseline.caption, ...scoreSystem(new Map(ids.map((id) => [id, baseline.caption])), refs) },
    perImage: ids.map((id) => ({ image_id: id, prediction: hyps.get(id)!, ...scores.perImage(id) })),
    samples: ids.slice(0, input.samples).map((id) => ({ image_id: id, prediction: hyps.get(id)!, references: refs.get(id)! })),
  };
}

/** Corpus and per-image scores of tokenized hypotheses against tokenized references. */
function scoreSystem(hyps: Map<string, string>, refs: Map<string, string[]>) {
  const bleu = corpusBleu(hyps, refs);
  const cider = corpusCider(hyps, refs);
  const rouge = corpusRougeL(hyps, refs);
  return {
    bleu: bleu.bleu,
    ciderD: cider.score,
    rougeL: rouge.score,
    perImage: (id: string): SystemScores => ({ bleu: bleu.perImage.get(id)!, ciderD: cider.perImage.get(id)!, rougeL: rouge.perImage.get(id)! }),
  };
}

/**
 * The strongest "ignore the image" system: the same caption for every image. Candidates are the most
 * frequent train captions (ties alphabetical); the one scoring best BLEU-4 on the evaluated images wins,
 * which makes it an upper bound for constant captions drawn from train — a conservative bar to beat.
 * `refs` must already be normalised; the candidates are normalised here.
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
