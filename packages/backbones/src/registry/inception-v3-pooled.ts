/** InceptionV3 (nsfwjs) with mixed10 global-average-pooled: one 2048-vector per image. */
import type { Backbone } from './backbone.ts';

export const inceptionV3Pooled = {
  id: 'inception_v3_pooled',
  inputSize: 299,
  cutLayer: 'mixed10_avg_pool',
  pool: { from: 'mixed10' },
  shape: [1, 2048],
  architecture: 'nsfwjs',
  nsfwjsDir: 'inception_v3',
  preprocessing: 'sharp resize fill 299x299 (linear), RGB, x/255; mixed10 global-average-pooled',
  pretrained: true,
} as const satisfies Backbone;
