/** ingest params: where the data set is, which layout it has, and how strictly to read it. */
import type { ParamsOf } from '@caption/core';
import type { Split } from './rows.ts';

export const FORMATS = ['auto', 'flickr8k', 'flickr30k', 'kaggle-csv', 'coco', 'karpathy'] as const;

/** COCO file names and Karpathy `split` values -> our splits (Karpathy's restval is extra training data). */
export const DEFAULT_SPLIT_MAP: Record<string, Split> = {
  train: 'train', restval: 'train', val: 'dev', dev: 'dev', test: 'test',
  train2014: 'train', val2014: 'dev', test2014: 'test', train2017: 'train', val2017: 'dev', test2017: 'test',
};

const fraction = { type: 'number', minimum: 0, maximum: 1 } as const;

export const ingestParamsSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    dataset: { type: 'string', minLength: 1, default: 'demo' }, // 'demo' (generated, embedded) or a directory path; ${ENV_VAR} allowed
    demo: {                                                      // size and seed of the generated demo data set
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        images: { type: 'integer', minimum: 8, maximum: 20000, default: 480 }, // images generated
        seed: { type: 'integer', minimum: 0, default: 7 },                     // seed of the generator
      },
    },
    format: { enum: FORMATS, default: 'auto' },  // caption file layout; auto = detect from the directory
    lemmas: { type: 'boolean', default: false }, // Flickr8k: read Flickr8k.lemma.token.txt instead of Flickr8k.token.txt
    imageDir: { type: 'string', default: '' },   // folder holding the images, relative to the data set; '' = detect
    splitMap: { type: 'object', additionalProperties: { enum: ['train', 'dev', 'test', 'none'] }, default: {} }, // a format's split names -> ours, merged over DEFAULT_SPLIT_MAP
    splitFractions: {                            // seeded split by image, for formats without splits
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        train: { ...fraction, exclusiveMinimum: 0, default: 0.8 }, // fraction of images; no train fraction: no training data, a run that measures nothing
        dev: { ...fraction, default: 0.1 },                        // fraction of images
        test: { ...fraction, default: 0.1 },                       // fraction of images
      },
    },
    strict: { type: 'boolean', default: false },                         // true: any rejected record fails the stage
    concurrency: { type: 'integer', minimum: 1, maximum: 64, default: 8 }, // images probed with sharp in parallel
  },
} as const;

export type IngestParams = ParamsOf<typeof ingestParamsSchema>;
