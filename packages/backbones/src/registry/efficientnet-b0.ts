/** EfficientNetB0 built in code with Keras layer names; weights from a keras.applications .h5 file. */
import { RESIZE, type Backbone } from './backbone.ts';

const NOTOP = 'efficientnetb0_notop.h5';

export const efficientnetB0 = {
  id: 'efficientnet_b0',
  inputSize: 299,
  cutLayer: 'top_activation',
  shape: [100, 1280],
  architecture: 'efficientnet_b0',
  // efficientnet.py: BASE_WEIGHTS_PATH + file, WEIGHTS_HASHES['b0'][1] (the no-top file)
  imagenet: { notop: { file: NOTOP, url: `https://storage.googleapis.com/keras-applications/${NOTOP}`, md5: '50bc09e76180e00e4465e1a485ddc09d' } },
  inputTransform: { scale: 255 },
  preprocessing: `${RESIZE(299)}, x/255; in-graph: pipeline_input x*255 (Keras takes 0..255), then the model's own ` +
    'Rescaling(1/255), Normalization(ImageNet mean/variance weights), Rescaling(1/sqrt(stddev)) = (x - mean) / std',
} as const satisfies Backbone;
