/** MobileNetV2 (alpha 1.0, 224x224, cut at out_relu: 7x7x1280): Keras' network, or the nsfwjs model as `pretrained`. */
import { KERAS_APPLICATIONS, RESIZE, TF_MODE, TF_MODE_NOTE, type Backbone } from './backbone.ts';

const NOTOP = 'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5';

export const mobilenetV2 = {
  id: 'mobilenet_v2',
  inputSize: 224,
  cutLayer: 'out_relu',
  shape: [49, 1280],
  architecture: 'mobilenet_v2',
  // Keras pins no hash for the MobileNetV2 files (mobilenet_v2.py calls get_file without file_hash).
  imagenet: { notop: { file: NOTOP, url: `${KERAS_APPLICATIONS}/mobilenet_v2/${NOTOP}`, bytes: 9_406_464 } },
  inputTransform: TF_MODE,
  preprocessing: `${RESIZE(224)}, x/255; ${TF_MODE_NOTE}`,
  nsfwjs: { dir: 'mobilenet_v2', preprocessing: 'sharp resize fill 224x224 (linear), RGB, x/255' },
} as const satisfies Backbone;
