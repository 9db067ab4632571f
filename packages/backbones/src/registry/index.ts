/**
 * Backbone registry: one file per backbone. Weights (`features.weights`, see ../load.ts): `imagenet` = the
 * official keras.applications file, downloaded once into a verified cache; `pretrained` = the Keras models
 * shipped inside the `nsfwjs` npm package (MIT; ImageNet-initialised, then fine-tuned for 5-class NSFW
 * classification and uint8-quantised: real CNN features, but not plain ImageNet weights; reports say so), for
 * inception_v3 and mobilenet_v2 only; a Keras .h5 weights file or a TF.js model directory; or `random` (tests
 * only). No TF.js behind this module: the pipeline schema imports it.
 */
import { mobilenetV2 } from './mobilenet-v2.ts';
import { inceptionV3 } from './inception-v3.ts';
import { inceptionV3Pooled } from './inception-v3-pooled.ts';
import { efficientnetB0 } from './efficientnet-b0.ts';
import { vgg16 } from './vgg16.ts';
import { centernet } from './centernet.ts';
import type { Backbone } from './backbone.ts';

export { RESIZE, WEIGHTS_NOTE, type Architecture, type Backbone, type KerasWeightsFile } from './backbone.ts';

/** The weights `features.weights` names by word; anything else is a path. */
export const NAMED_WEIGHTS: readonly string[] = ['imagenet', 'pretrained', 'random'];

export const BACKBONES = {
  mobilenet_v2: mobilenetV2,
  inception_v3: inceptionV3,
  inception_v3_pooled: inceptionV3Pooled,
  efficientnet_b0: efficientnetB0,
  vgg16: vgg16,
  centernet: centernet,
} as const satisfies Record<string, Backbone>;

export type BackboneId = keyof typeof BACKBONES;
export const BACKBONE_IDS = Object.keys(BACKBONES) as BackboneId[];
