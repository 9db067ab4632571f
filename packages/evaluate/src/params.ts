/** evaluate params: what to decode and the quality gate. */
export interface EvaluateParams {
  split: 'test' | 'dev';     // which split to caption and score
  maxLength: number;         // max generated tokens per caption
  beamSize: number;          // 1 = greedy decoding; K > 1 = beam search with K beams
  lengthPenalty: number;     // beam search: rank finished captions by log p / length^lengthPenalty
  batchSize: number;         // images decoded together
  samples: number;           // example predictions shown in the reports (report.html: with their images)
  baselineCandidates: number; // most frequent train captions tried as the constant-caption baseline
  // gate: fail the stage when a metric is below its minimum (BLEU and ROUGE-L in [0,1], CIDEr-D in [0,10])
  min: { bleu1?: number; bleu2?: number; bleu3?: number; bleu4?: number; ciderD?: number; rougeL?: number };
}

export const evaluateParamsSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    split: { enum: ['test', 'dev'], default: 'test' },
    maxLength: { type: 'integer', minimum: 1, maximum: 256, default: 24 },
    beamSize: { type: 'integer', minimum: 1, maximum: 32, default: 1 },
    lengthPenalty: { type: 'number', minimum: 0, maximum: 5, default: 0 },
    batchSize: { type: 'integer', minimum: 1, default: 128 },
    samples: { type: 'integer', minimum: 0, default: 8 },
    baselineCandidates: { type: 'integer', minimum: 1, default: 100 },
    min: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        ...Object.fromEntries(['bleu1', 'bleu2', 'bleu3', 'bleu4', 'rougeL'].map((k) => [k, { type: 'number', minimum: 0, maximum: 1 }])),
        ciderD: { type: 'number', minimum: 0, maximum: 10 },
      },
    },
  },
} as const;
