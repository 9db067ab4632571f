/** EfficientNetB0 built in code with Keras layer names; weights from a keras.applications .h5 file. */
import { RESIZE, type Backbone } from './backbone.ts';

export const efficientnetB0 = {
  id: 'efficientnet_b0',
  inputSize: 299,
  cutLayer: 'top_activation',
  shape: [100, 1280],
  architecture: 'efficientnet_b0',
  inputTransform: { scale: 255 },
  preprocessing: `${RESIZE(299)}, x/255; in-graph: pipeline_input x*255 (Keras takes 0..255), then the model's own ` +
    'Rescaling(1/255), Normalization(ImageNet mean/variance weights), Rescaling(1/sqrt(stddev)) = (x - mean) / std',
  pretrained: false,
} as const satisfies Backbone;
