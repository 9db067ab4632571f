/**
 * What the registry knows about a backbone: input size, what the network expects (and the input transform
 * that gets the pipeline's RGB [0,1] pixels there, built into the network as its first layer), where it is cut,
 * and the feature shape [L locations, D channels]. One file per backbone beside this one.
 */
import type { ChannelAffineArgs } from '../architectures/layers.ts';

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

export const RESIZE = (s: number) => `sharp resize fill ${s}x${s} (linear), RGB`;
export const WEIGHTS_NOTE = 'nsfwjs@4.4.0 pretrained weights (ImageNet-initialised, NSFW fine-tuned, uint8-quantised)';
