/**
 * Backbone registry: per backbone its input size, what the network expects (and the input transform
 * that gets the pipeline's RGB [0,1] pixels there, built into the network as its first layer), where it
 * is cut, and the feature shape [L locations, D channels].
 *
 * Weights (`features.weights`, see model.ts): `pretrained` = the Keras models shipped inside the `nsfwjs`
 * npm package (MIT; ImageNet-initialised, then fine-tuned for 5-class NSFW classification and
 * uint8-quantised: real CNN features, but not plain ImageNet weights; reports say so), for inception_v3 and
 * mobilenet_v2 only; a Keras .h5 weights file or a TF.js model directory; or `random` (tests only).
 */
import type { ChannelAffineArgs } from './architectures/layers.ts';
import { CAFFE_MEAN_BGR } from './architectures/constants.ts';

export type Architecture = 'nsfwjs' | 'efficientnet_b0' | 'vgg16';

export interface Backbone {
  id: string;
  inputSize: number;          // square input, pixels
  /**
   * The extractor's output layer: its output is the feature map (and the ONNX graph is cut there). For a
   * pooled backbone this is the GlobalAveragePooling2D layer `<pool.from>_avg_pool` added after `pool.from`.
   */
  cutLayer: string;
  /** pooled backbones: global average pooling of layer `from`, one feature vector per image (L = 1) */
  pool?: { from: string };
  shape: [number, number];    // [L locations, D channels]
  /** how the network is built: the nsfwjs model's topology (default), or in code (architectures/) with Keras' layer names */
  architecture?: Architecture;
  nsfwjsDir?: string;         // nsfwjs architecture: folder under nsfwjs/dist/models
  /** first layer `pipeline_input`: pipeline pixels (RGB, [0,1]) -> what the network expects; none = as is */
  inputTransform?: Omit<ChannelAffineArgs, 'name'>;
  preprocessing: string;      // what the network sees, recorded in shard metadata
  /** `features.weights: pretrained` works (the nsfwjs weights ship with the npm package) */
  pretrained?: boolean;
}

const RESIZE = (s: number) => `sharp resize fill ${s}x${s} (linear), RGB`;

export const BACKBONES = {
  mobilenet_v2: {
    id: 'mobilenet_v2',
    inputSize: 224,
    cutLayer: 'out_relu',
    shape: [49, 1280],
    architecture: 'nsfwjs',
    nsfwjsDir: 'mobilenet_v2',
    preprocessing: 'sharp resize fill 224x224 (linear), RGB, x/255',
    pretrained: true,
  },
  inception_v3: {
    id: 'inception_v3',
    inputSize: 299,
    cutLayer: 'mixed10',
    shape: [64, 2048],
    architecture: 'nsfwjs',
    nsfwjsDir: 'inception_v3',
    preprocessing: 'sharp resize fill 299x299 (linear), RGB, x/255',
    pretrained: true,
  },
  inception_v3_pooled: {
    id: 'inception_v3_pooled',
    inputSize: 299,
    cutLayer: 'mixed10_avg_pool',
    pool: { from: 'mixed10' },
    shape: [1, 2048],
    architecture: 'nsfwjs',
    nsfwjsDir: 'inception_v3',
    preprocessing: 'sharp resize fill 299x299 (linear), RGB, x/255; mixed10 global-average-pooled',
    pretrained: true,
  },
  efficientnet_b0: {
    id: 'efficientnet_b0',
    inputSize: 299,
    cutLayer: 'top_activation',
    shape: [100, 1280],
    architecture: 'efficientnet_b0',
    inputTransform: { scale: 255 },
    preprocessing: `${RESIZE(299)}, x/255; in-graph: pipeline_input x*255 (Keras takes 0..255), then the model's own ` +
      'Rescaling(1/255), Normalization(ImageNet mean/variance weights), Rescaling(1/sqrt(stddev)) = (x - mean) / std',
    pretrained: false,
  },
  vgg16: {
    id: 'vgg16',
    inputSize: 224,
    cutLayer: 'fc2',
    shape: [1, 4096],
    architecture: 'vgg16',
    inputTransform: { source: [2, 1, 0], scale: 255, offset: CAFFE_MEAN_BGR.map((m) => -m) },
    preprocessing: `${RESIZE(224)}, x/255; in-graph: pipeline_input caffe style (Keras preprocess_input mode='caffe'): ` +
      'RGB->BGR, x*255 - [103.939, 116.779, 123.68]',
    pretrained: false,
  },
} as const satisfies Record<string, Backbone>;

export type BackboneId = keyof typeof BACKBONES;
export const BACKBONE_IDS = Object.keys(BACKBONES) as BackboneId[];
export const WEIGHTS_NOTE = 'nsfwjs@4.4.0 pretrained weights (ImageNet-initialised, NSFW fine-tuned, uint8-quantised)';
