/** MobileNetV2 as nsfwjs ships it (224x224, cut at out_relu: 7x7x1280). */
import type { Backbone } from './backbone.ts';

export const mobilenetV2 = {
  id: 'mobilenet_v2',
  inputSize: 224,
  cutLayer: 'out_relu',
  shape: [49, 1280],
  architecture: 'nsfwjs',
  nsfwjsDir: 'mobilenet_v2',
  preprocessing: 'sharp resize fill 224x224 (linear), RGB, x/255',
  pretrained: true,
} as const satisfies Backbone;
