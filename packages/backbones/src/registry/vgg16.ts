/** VGG16 built in code with Keras layer names; fc2 (4096) from a keras.applications .h5 file. */
import { CAFFE_MEAN_BGR } from '../architectures/constants.ts';
import { KERAS_APPLICATIONS, RESIZE, type Backbone } from './backbone.ts';

const TOP = 'vgg16_weights_tf_dim_ordering_tf_kernels.h5';
const NOTOP = 'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5';

export const vgg16 = {
  id: 'vgg16',
  inputSize: 224,
  cutLayer: 'fc2',
  shape: [1, 4096],
  architecture: 'vgg16',
  // fc1/fc2 are only in the full file (528 MB); a cut in the convolutional part needs only the no-top one (56 MB)
  imagenet: {
    top: { file: TOP, url: `${KERAS_APPLICATIONS}/vgg16/${TOP}`, md5: '64373286793e3c8b2b4e3219cbf3544b', bytes: 553_467_096 },
    notop: { file: NOTOP, url: `${KERAS_APPLICATIONS}/vgg16/${NOTOP}`, md5: '6d6bbae143d832006294945121d1f1fc', bytes: 58_889_256 },
    topLayers: ['flatten', 'fc1', 'fc2'],
  },
  inputTransform: { source: [2, 1, 0], scale: 255, offset: CAFFE_MEAN_BGR.map((m) => -m) },
  preprocessing: `${RESIZE(224)}, x/255; in-graph: pipeline_input caffe style (Keras preprocess_input mode='caffe'): ` +
    'RGB->BGR, x*255 - [103.939, 116.779, 123.68]',
} as const satisfies Backbone;
