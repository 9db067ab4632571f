/** evaluate params: what to decode and the quality gate. */
import type { ParamsOf } from '@caption/core';

export const evaluateParamsSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    split: { enum: ['test', 'dev'], default: 'test' },                      // which split to caption and score
    maxLength: { type: 'integer', minimum: 1, maximum: 256, default: 24 },  // max generated tokens per caption
    beamSize: { type: 'integer', minimum: 1, maximum: 32, default: 1 },     // 1 = greedy decoding; K > 1 = beam search with K beams
    lengthPenalty: { type: 'number', minimum: 0, maximum: 5, default: 0 },  // beam search: rank finished captions by log p / length^lengthPenalty
    batchSize: { type: 'integer', minimum: 1, default: 128 },               // images decoded together
    samples: { type: 'integer', minimum: 0, default: 8 },                   // example predictions shown in the reports (report.html: with their images)
    baselineCandidates: { type: 'integer', minimum: 1, default: 100 },      // most frequent train captions tried as the constant-caption baseline
    min: {                                                                  // gate: fail the stage when a metric is below its minimum (unset = no minimum)
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        bleu1: { type: 'number', minimum: 0, maximum: 1 },    // BLEU-1, in [0,1]
        bleu2: { type: 'number', minimum: 0, maximum: 1 },    // BLEU-2, in [0,1]
        bleu3: { type: 'number', minimum: 0, maximum: 1 },    // BLEU-3, in [0,1]
        bleu4: { type: 'number', minimum: 0, maximum: 1 },    // BLEU-4, in [0,1]
        rougeL: { type: 'number', minimum: 0, maximum: 1 },   // ROUGE-L, in [0,1]
        ciderD: { type: 'number', minimum: 0, maximum: 10 },  // CIDEr-D, in [0,10]
      },
    },
  },
} as const;

export type EvaluateParams = ParamsOf<typeof evaluateParamsSchema>;
