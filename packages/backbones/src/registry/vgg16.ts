/** VGG16 built in code with Keras layer names; fc2 (4096) from a keras.applications .h5 file. */
import { CAFFE_MEAN_BGR } from '../architectures/constants.ts';
import { RESIZE, type Backbone } from './backbone.ts';

export const vgg16 = {
  id: 'vgg16',
  inputSize: 224,
  cutLayer: 'fc2',
  shape: [1, 4096],
  architecture: 'vgg16',
  inputTransform: { source: [2, 1, 0], scale: 255, offset: CAFFE_MEAN_BGR.map((m) => -m) },
  preprocessing: `${RESIZE(224)}, x/255; in-graph: pipeline_input caffe style (Keras preprocess_input mode='caffe'): ` +
    'RGB->BGR, x*255 - [103.939, 116.779, 123.68]',
  pretrained: false,
} as const satisfies Backbone;
