// Re-score a caption-metric test-vector file (the format of caption-metrics-flickr8k-dev.json: pycocoevalcap
// Bleu(4), Cider(), Rouge() corpus and per-image scores per system) and report the largest deviation per metric.

import { corpusBleu } from './bleu.ts';
import { corpusCider } from './cider.ts';
import { corpusRougeL } from './rouge.ts';

export const VECTOR_METRICS = ['Bleu_1', 'Bleu_2', 'Bleu_3', 'Bleu_4', 'CIDEr', 'ROUGE_L'] as const;
export type VectorMetric = (typeof VECTOR_METRICS)[number];

export interface MetricDeviation {
  metric: VectorMetric;
  /** The system where the largest deviation occurred ('' when nothing was checked for this metric). */
  system: string;
  /** Largest |computed - expected| over every corpus and per-image value of this metric (Infinity if unusable). */
  maxDeviation: number;
  /** How many expected values of this metric were compared. */
  checked: number;
}

interface VectorSystem {
  corpus: Record<string, unknown>;
  hypotheses: Record<string, string>;
  per_image?: Record<string, Record<string, unknown>>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseVectors(json: unknown): { references: Map<string, string[]>; systems: [string, VectorSystem][] } {
  if (!isRecord(json) || !isRecord(json.references) || !isRecord(json.systems)) {
    throw new Error('test vectors: expected an object with "references" and "systems"');
  }
  const references = new Map<string, string[]>();
  for (const [id, refs] of Object.entries(json.references)) {
    if (!Array.isArray(refs) || !refs.every((r) => typeof r === 'string')) throw new Error(`test vectors: references["${id}"] is not a list of strings`);
    references.set(id, refs as string[]);
  }
  const systems: [string, VectorSystem][] = [];
  for (const [name, system] of Object.entries(json.systems)) {
    if (!isRecord(system) || !isRecord(system.corpus) || !isRecord(system.hypotheses)) {
      throw new Error(`test vectors: system "${name}" needs "corpus" and "hypotheses" objects`);
    }
    for (const [id, hyp] of Object.entries(system.hypotheses)) {
      if (typeof hyp !== 'string') throw new Error(`test vectors: system "${name}" hypothesis "${id}" is not a string`);
    }
    if (system.per_image !== undefined && (!isRecord(system.per_image) || !Object.values(system.per_image).every(isRecord))) {
      throw new Error(`test vectors: system "${name}" per_image must map image ids to score objects`);
    }
    systems.push([name, system as unknown as VectorSystem]);
  }
  if (systems.length === 0) throw new Error('test vectors: no systems');
  return { references, systems };
}

function deviation(actual: number | undefined, expected: unknown): number {
  if (typeof expected !== 'number' || !Number.isFinite(expected) || actual === undefined || !Number.isFinite(actual)) return Infinity;
  return Math.abs(actual - expected);
}

/** Re-scores every system with BLEU-1..4, CIDEr-D and ROUGE-L; one entry per metric, in VECTOR_METRICS order. */
export function checkMetricVectors(json: unknown): MetricDeviation[] {
  const { references, systems } = parseVectors(json);
  const results = new Map<VectorMetric, MetricDeviation>(
    VECTOR_METRICS.map((metric) => [metric, { metric, system: '', maxDeviation: 0, checked: 0 }]),
  );
  const record = (metric: VectorMetric, system: string, actual: number | undefined, expected: unknown): void => {
    if (expected === undefined) return;
    const entry = results.get(metric)!;
    const d = deviation(actual, expected);
    entry.checked++;
    if (entry.system === '' || d > entry.maxDeviation) {
      entry.maxDeviation = d;
      entry.system = system;
    }
  };

  for (const [name, system] of systems) {
    const hypotheses = new Map(Object.entries(system.hypotheses));
    const bleu = corpusBleu(hypotheses, references);
    const cider = corpusCider(hypotheses, references);
    const rouge = corpusRougeL(hypotheses, references);
    const corpus: Record<VectorMetric, number> = {
      Bleu_1: bleu.bleu[0], Bleu_2: bleu.bleu[1], Bleu_3: bleu.bleu[2], Bleu_4: bleu.bleu[3], CIDEr: cider.score, ROUGE_L: rouge.score,
    };
    for (const metric of VECTOR_METRICS) record(metric, name, corpus[metric], system.corpus[metric]);
    for (const [image, expected] of Object.entries(system.per_image ?? {})) {
      const b = bleu.perImage.get(image);
      const actual: Record<VectorMetric, number | undefined> = {
        Bleu_1: b?.[0], Bleu_2: b?.[1], Bleu_3: b?.[2], Bleu_4: b?.[3], CIDEr: cider.perImage.get(image), ROUGE_L: rouge.perImage.get(image),
      };
      for (const metric of VECTOR_METRICS) record(metric, name, actual[metric], expected[metric]);
    }
  }
  return [...results.values()];
}
