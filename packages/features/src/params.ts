/** features params: which backbone and weights, which engine, how to batch, how to store. */
import { BACKBONE_IDS } from '@caption/backbones/registry';

export interface FeaturesParams {
  backbone: (typeof BACKBONE_IDS)[number]; // see backbones.ts for input size, cut layer and output shape
  /**
   * 'pretrained' (the nsfwjs models: inception_v3*, mobilenet_v2), 'random' (seeded by the pipeline seed;
   * tests only), or a path (repo-relative, ${VAR} expanded): a Keras .h5 weights file or a TF.js model directory
   */
  weights: string;
  cutLayer?: string;        // cut at this layer instead of the backbone's (the feature shape follows it)
  engine: 'onnx' | 'tfjs';  // onnx: ONNX Runtime (fast); tfjs: TensorFlow.js (the reference)
  batchSize: number;        // images per inference call
  shardSize: number;        // images per Arrow IPC shard file (a multiple of batchSize keeps resumes exact)
  dtype: 'float16' | 'float32'; // storage type of the feature values
  concurrency: number;      // images decoded/resized by sharp in parallel
  reuse: boolean;           // copy rows of unchanged images from the previous artifact of the same config
}

export const featuresParamsSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    backbone: { enum: BACKBONE_IDS, default: 'mobilenet_v2' },
    weights: { type: 'string', minLength: 1, default: 'pretrained' },
    cutLayer: { type: 'string', minLength: 1 },
    engine: { enum: ['onnx', 'tfjs'], default: 'onnx' },
    batchSize: { type: 'integer', minimum: 1, maximum: 512, default: 16 },
    shardSize: { type: 'integer', minimum: 1, default: 512 },
    dtype: { enum: ['float16', 'float32'], default: 'float16' },
    concurrency: { type: 'integer', minimum: 1, maximum: 64, default: 4 },
    reuse: { type: 'boolean', default: true },
  },
} as const;
