/** ingest params: where the data set is, which layout it has, and how strictly to read it. */
import type { Split } from './rows.ts';

export const FORMATS = ['auto', 'flickr8k', 'flickr30k', 'kaggle-csv', 'coco', 'karpathy'] as const;

export interface IngestParams {
  dataset: string;          // 'demo' (generated, embedded) or a directory path; ${ENV_VAR} allowed
  demo: { images: number; seed: number }; // size and seed of the generated demo data set
  format: (typeof FORMATS)[number];       // caption file layout; auto = detect from the directory
  lemmas: boolean;          // Flickr8k: read Flickr8k.lemma.token.txt instead of Flickr8k.token.txt
  imageDir: string;         // folder holding the images, relative to the data set; '' = detect
  splitMap: Record<string, Split>;        // a format's split names -> ours, merged over DEFAULT_SPLIT_MAP
  splitFractions: { train: number; dev: number; test: number }; // seeded split by image, for formats without splits
  strict: boolean;          // true: any rejected record fails the stage
  concurrency: number;      // images probed with sharp in parallel
}

/** COCO file names and Karpathy `split` values -> our splits (Karpathy's restval is extra training data). */
export const DEFAULT_SPLIT_MAP: Record<string, Split> = {
  train: 'train', restval: 'train', val: 'dev', dev: 'dev', test: 'test',
  train2014: 'train', val2014: 'dev', test2014: 'test', train2017: 'train', val2017: 'dev', test2017: 'test',
};

const fraction = { type: 'number', minimum: 0, maximum: 1 };

export const ingestParamsSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    dataset: { type: 'string', minLength: 1, default: 'demo' },
    demo: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        images: { type: 'integer', minimum: 8, maximum: 20000, default: 480 },
        seed: { type: 'integer', minimum: 0, default: 7 },
      },
    },
    format: { enum: FORMATS, default: 'auto' },
    lemmas: { type: 'boolean', default: false },
    imageDir: { type: 'string', default: '' },
    splitMap: { type: 'object', additionalProperties: { enum: ['train', 'dev', 'test', 'none'] }, default: {} },
    splitFractions: {
      type: 'object',
      additionalProperties: false,
      default: {},
      // no train fraction: no training data, a run that measures nothing
      properties: { train: { ...fraction, exclusiveMinimum: 0, default: 0.8 }, dev: { ...fraction, default: 0.1 }, test: { ...fraction, default: 0.1 } },
    },
    strict: { type: 'boolean', default: false },
    concurrency: { type: 'integer', minimum: 1, maximum: 64, default: 8 },
  },
} as const;
