/** features params: which backbone, how to batch, how to store. */
import { BACKBONE_IDS } from './backbones.ts';

export interface FeaturesParams {
  backbone: (typeof BACKBONE_IDS)[number]; // see backbones.ts for input size, cut layer and output shape
  batchSize: number;        // images per inference call
  shardSize: number;        // images per Arrow IPC shard file
  dtype: 'float16' | 'float32'; // storage type of the feature values
  concurrency: number;      // images decoded/resized by sharp in parallel
}

export const featuresParamsSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    backbone: { enum: BACKBONE_IDS, default: 'mobilenet_v2' },
    batchSize: { type: 'integer', minimum: 1, maximum: 512, default: 32 },
    shardSize: { type: 'integer', minimum: 1, default: 1024 },
    dtype: { enum: ['float16', 'float32'], default: 'float16' },
    concurrency: { type: 'integer', minimum: 1, maximum: 64, default: 4 },
  },
} as const;
