/**
 * Backbone registry. The weights are the real pretrained Keras models shipped inside the `nsfwjs` npm
 * package (MIT): ImageNet-initialised, then fine-tuned for 5-class NSFW classification and uint8-quantised.
 * They are real CNN features, but not plain ImageNet weights — reports say so.
 */
export interface Backbone {
  id: string;
  inputSize: number;          // square input, pixels
  cutLayer: string;           // layer whose output is the feature map
  shape: [number, number];    // [L locations, D channels]
  nsfwjsDir: string;          // folder under nsfwjs/dist/models
  preprocessing: string;      // what the network expects, recorded in shard metadata
}

export const BACKBONES = {
  mobilenet_v2: {
    id: 'mobilenet_v2',
    inputSize: 224,
    cutLayer: 'out_relu',
    shape: [49, 1280],
    nsfwjsDir: 'mobilenet_v2',
    preprocessing: 'sharp resize fill 224x224 (linear), RGB, x/255',
  },
  inception_v3: {
    id: 'inception_v3',
    inputSize: 299,
    cutLayer: 'mixed10',
    shape: [64, 2048],
    nsfwjsDir: 'inception_v3',
    preprocessing: 'sharp resize fill 299x299 (linear), RGB, x/255',
  },
} as const satisfies Record<string, Backbone>;

export const BACKBONE_IDS = Object.keys(BACKBONES) as (keyof typeof BACKBONES)[];
export const WEIGHTS_NOTE = 'nsfwjs@4.4.0 pretrained weights (ImageNet-initialised, NSFW fine-tuned, uint8-quantised)';
