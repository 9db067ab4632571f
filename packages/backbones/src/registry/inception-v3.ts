/** InceptionV3 (299x299, cut at mixed10: 8x8x2048): Keras' network, or the nsfwjs model as `pretrained`. */
import { KERAS_APPLICATIONS, RESIZE, TF_MODE, TF_MODE_NOTE, type Backbone } from './backbone.ts';

const NOTOP = 'inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5';

export const INCEPTION_V3_IMAGENET = {
  notop: { file: NOTOP, url: `${KERAS_APPLICATIONS}/inception_v3/${NOTOP}`, md5: 'bcbd6486424b2319ff4ef7d526e38f63' },
} as const;

export const inceptionV3 = {
  id: 'inception_v3',
  inputSize: 299,
  cutLayer: 'mixed10',
  shape: [64, 2048],
  architecture: 'inception_v3',
  imagenet: INCEPTION_V3_IMAGENET,
  inputTransform: TF_MODE,
  preprocessing: `${RESIZE(299)}, x/255; ${TF_MODE_NOTE}`,
  nsfwjs: { dir: 'inception_v3', preprocessing: 'sharp resize fill 299x299 (linear), RGB, x/255' },
} as const satisfies Backbone;
