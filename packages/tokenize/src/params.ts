/** tokenize params: how captions become token ids. */
export interface TokenizeParams {
  vocabSize: number;   // top-k words by train-split count (plus the 4 special tokens)
  minCount: number;    // words seen fewer times in train map to <unk>
  maxLength: number;   // max tokens per caption including <start> and <end>; longer ones are truncated
}

export const tokenizeParamsSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    vocabSize: { type: 'integer', minimum: 1, default: 5000 },
    minCount: { type: 'integer', minimum: 1, default: 1 },
    maxLength: { type: 'integer', minimum: 3, maximum: 256, default: 24 },
  },
} as const;
