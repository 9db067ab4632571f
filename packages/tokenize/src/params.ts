/** tokenize params: how captions become token ids. */
import type { ParamsOf } from '@caption/core';

export const tokenizeParamsSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    vocabSize: { type: 'integer', minimum: 10, default: 5000 }, // top-k words by train-split count (plus the 4 special tokens);
                                                                // below ~10 words every caption is mostly <unk>: nothing to measure
    minCount: { type: 'integer', minimum: 1, default: 1 },      // words seen fewer times in train map to <unk>
    maxLength: {                                                // max tokens incl. <start>/<end>, or 'p95' = the 95th percentile of train lengths + 2
      oneOf: [{ type: 'integer', minimum: 3, maximum: 256 }, { type: 'string', pattern: '^p(100|[1-9]?[0-9])$' }],
      default: 24,
    },
    lowercase: { type: 'boolean', default: true },              // fold case
    stripPunctuation: { type: 'boolean', default: true },       // punctuation -> spaces (keeps < and >)
    dropNumeric: { type: 'boolean', default: false },           // drop tokens with digits
    dropSingleChars: { type: 'boolean', default: false },       // drop one-letter tokens such as 'a'
  },
} as const;

export type TokenizeParams = ParamsOf<typeof tokenizeParamsSchema>;
