/** InceptionV3 as nsfwjs ships it (299x299, cut at mixed10: 8x8x2048). */
import type { Backbone } from './backbone.ts';

export const inceptionV3 = {
  id: 'inception_v3',
  inputSize: 299,
  cutLayer: 'mixed10',
  shape: [64, 2048],
  architecture: 'nsfwjs',
  nsfwjsDir: 'inception_v3',
  preprocessing: 'sharp resize fill 299x299 (linear), RGB, x/255',
  pretrained: true,
} as const satisfies Backbone;
