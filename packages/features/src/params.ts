/** features params: which backbone and weights, which engine, how to batch, how to store. */
import type { ParamsOf } from '@caption/core';
import { BACKBONE_IDS } from '@caption/backbones/registry';

export const featuresParamsSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    backbone: { enum: BACKBONE_IDS, default: 'mobilenet_v2' },                  // see backbones.ts for input size, cut layer and output shape
    weights: { type: 'string', minLength: 1, default: 'pretrained' },           // 'imagenet' (the keras.applications file, fetched once into $CAPTION_CACHE),
                                                                                // 'pretrained' (the nsfwjs models: inception_v3*, mobilenet_v2),
                                                                                // 'random' (seeded by the pipeline seed; tests only), or a path (repo-relative,
                                                                                // ${VAR} expanded): a Keras .h5 weights file or a TF.js model directory
    cutLayer: { type: 'string', minLength: 1 },                                 // cut at this layer instead of the backbone's (the feature shape follows it)
    engine: { enum: ['onnx', 'tfjs'], default: 'onnx' },                        // onnx: ONNX Runtime (fast); tfjs: TensorFlow.js (the reference)
    batchSize: { type: 'integer', minimum: 1, maximum: 512, default: 16 },      // images per inference call
    shardSize: { type: 'integer', minimum: 1, default: 512 },                   // images per Arrow IPC shard file (a multiple of batchSize keeps resumes exact)
    dtype: { enum: ['float16', 'float32'], default: 'float16' },                // storage type of the feature values
    concurrency: { type: 'integer', minimum: 1, maximum: 64, default: 4 },      // images decoded/resized by sharp in parallel
    reuse: { type: 'boolean', default: true },                                  // copy rows of unchanged images from the previous artifact of the same config,
                                                                                // and take rows computed before (any clone, any worker) from the content store
  },
} as const;

export type FeaturesParams = ParamsOf<typeof featuresParamsSchema>;
