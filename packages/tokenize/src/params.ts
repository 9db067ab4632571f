/** tokenize params: how captions become token ids. */
export interface TokenizeParams {
  vocabSize: number;   // top-k words by train-split count (plus the 4 special tokens)
  minCount: number;    // words seen fewer times in train map to <unk>
  maxLength: number | string; // max tokens incl. <start>/<end>, or 'p95' = the 95th percentile of train lengths + 2
  lowercase: boolean;          // fold case
  stripPunctuation: boolean;   // punctuation -> spaces (keeps < and >)
  dropNumeric: boolean;        // drop tokens with digits
  dropSingleChars: boolean;    // drop one-letter tokens such as 'a'
}

export const tokenizeParamsSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    vocabSize: { type: 'integer', minimum: 10, default: 5000 }, // below ~10 words every caption is mostly <unk>: nothing to measure
    minCount: { type: 'integer', minimum: 1, default: 1 },
    maxLength: {
      oneOf: [{ type: 'integer', minimum: 3, maximum: 256 }, { type: 'string', pattern: '^p(100|[1-9]?[0-9])$' }],
      default: 24,
    },
    lowercase: { type: 'boolean', default: true },
    stripPunctuation: { type: 'boolean', default: true },
    dropNumeric: { type: 'boolean', default: false },
    dropSingleChars: { type: 'boolean', default: false },
  },
} as const;
