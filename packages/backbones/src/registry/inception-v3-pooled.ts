/** InceptionV3 with mixed10 global-average-pooled: one 2048-vector per image. */
import { RESIZE, TF_MODE, TF_MODE_NOTE, type Backbone } from './backbone.ts';
import { INCEPTION_V3_IMAGENET } from './inception-v3.ts';

export const inceptionV3Pooled = {
  id: 'inception_v3_pooled',
  inputSize: 299,
  cutLayer: 'mixed10_avg_pool',
  pool: { from: 'mixed10' },
  shape: [1, 2048],
  architecture: 'inception_v3',
  imagenet: INCEPTION_V3_IMAGENET,
  inputTransform: TF_MODE,
  preprocessing: `${RESIZE(299)}, x/255; ${TF_MODE_NOTE}; mixed10 global-average-pooled`,
  nsfwjs: { dir: 'inception_v3', preprocessing: 'sharp resize fill 299x299 (linear), RGB, x/255; mixed10 global-average-pooled' },
} as const satisfies Backbone;
