/**
 * An encoder head: the CNN layers after the features' cut, trained together with the decoder (encoder
 * fine-tuning at the cost of the last blocks only, from cached features). MobileNetV2's inverted residual blocks:
 *
 *   features [K, h*w, C] -> [K, h, w, C]
 *   per block:  relu6(1x1 expand) -> relu6(3x3 depthwise, stride s, same) -> 1x1 project (+ block input when
 *               s = 1 and the channels match); a last block without `filters` stops after its expansion
 *   -> [K, h'*w', D] for the decoder, which sees these as its features
 *
 * Batch normalisation is folded into the convolutions (kernel·γ/√(σ²+ε), β − μ·γ/√(σ²+ε)) when the train stage
 * copies the backbone's weights in: the head has inference statistics, and the folded kernels and biases train.
 * 1x1 convolutions are products of [K·h·w, C] rows with a [C, C'] kernel (the same numbers, and the fast gradient).
 */
import { tf } from '@caption/core/tf';
import type { CaptionModel } from './model.ts';
import type { Spec, Weights } from './blocks.ts';

export interface InvertedResidual {
  name: string;          // the backbone's block prefix, e.g. 'block_11'
  expand: number;        // channels after the 1x1 expansion
  stride: 1 | 2;         // of the depthwise convolution
  filters?: number;      // channels after the projection; absent: the head ends at this block's expand_relu
}

export interface EncoderHeadConfig {
  backbone: 'mobilenet_v2';
  from: string;                  // the layer the features were cut at
  to: string;                    // the layer the head ends at
  grid: [number, number];        // h, w of the features (L = h*w)
  channels: number;              // C of the features
  blocks: InvertedResidual[];
  /**
   * The head's learning rate relative to the decoder's: its weights are stored divided by this and multiplied
   * back in the forward pass, so Adam's steps (the same size for any gradient scale) move them this much less.
   */
  lrScale?: number;
}

type Part = 'expand' | 'depthwise' | 'project';
const key = (block: string, part: Part, w: 'kernel' | 'bias') => `head/${block}/${part}/${w}`;

/** The head's weights (glorot/zeros until the train stage copies the backbone's in). */
export function encoderHeadSpec(cfg: EncoderHeadConfig): Spec {
  const spec: Spec = {};
  let c = cfg.channels;
  for (const b of cfg.blocks) {
    spec[key(b.name, 'expand', 'kernel')] = [[c, b.expand], 'glorot'];
    spec[key(b.name, 'expand', 'bias')] = [[b.expand], 'zeros'];
    if (b.filters === undefined) return spec;
    spec[key(b.name, 'depthwise', 'kernel')] = [[3, 3, b.expand, 1], 'glorot'];
    spec[key(b.name, 'depthwise', 'bias')] = [[b.expand], 'zeros'];
    spec[key(b.name, 'project', 'kernel')] = [[b.expand, b.filters], 'glorot'];
    spec[key(b.name, 'project', 'bias')] = [[b.filters], 'zeros'];
    c = b.filters;
  }
  return spec;
}

/** [L, D] of what the head gives the decoder. */
export function encoderHeadOutput(cfg: EncoderHeadConfig): [number, number] {
  let [h, w] = cfg.grid;
  let c = cfg.channels;
  for (const b of cfg.blocks) {
    if (b.filters === undefined) return [h * w, b.expand];
    [h, w] = [Math.ceil(h / b.stride), Math.ceil(w / b.stride)];
    c = b.filters;
  }
  return [h * w, c];
}

/** 1x1 convolution of x [K, h, w, C] as a product: [K·h·w, C]·[C, C'] + bias. */
function pointwise(x: tf.Tensor4D, kernel: tf.Tensor, bias: tf.Tensor): tf.Tensor4D {
  const [K, h, w, c] = x.shape;
  const y = tf.add(tf.matMul(x.reshape([K * h * w, c]), kernel as tf.Tensor2D), bias);
  return y.reshape([K, h, w, kernel.shape[1]!]);
}

/** features [K, L, C] -> [K, L', D] */
export function applyEncoderHead(stored: Weights, cfg: EncoderHeadConfig, features: tf.Tensor3D): tf.Tensor3D {
  const scale = cfg.lrScale ?? 1;
  const w = (block: string, part: Part, kind: 'kernel' | 'bias') => {
    const v = stored[key(block, part, kind)];
    return scale === 1 ? v : tf.mul(v, scale);
  };
  const K = features.shape[0];
  let x = features.reshape([K, cfg.grid[0], cfg.grid[1], cfg.channels]) as tf.Tensor4D;
  for (const b of cfg.blocks) {
    const input = x;
    x = tf.relu6(pointwise(x, w(b.name, 'expand', 'kernel'), w(b.name, 'expand', 'bias')));
    if (b.filters === undefined) break;
    const dw = tf.depthwiseConv2d(x, w(b.name, 'depthwise', 'kernel') as tf.Tensor4D, b.stride, 'same');
    x = tf.relu6(tf.add(dw, w(b.name, 'depthwise', 'bias'))) as tf.Tensor4D;
    x = pointwise(x, w(b.name, 'project', 'kernel'), w(b.name, 'project', 'bias'));
    if (b.stride === 1 && input.shape[3] === b.filters) x = tf.add(input, x) as tf.Tensor4D;
  }
  const [, h, wd, d] = x.shape;
  return x.reshape([K, h * wd, d]);
}

/** The decoder `inner` (built for the head's output shape) behind the head; the weights are both sets. */
export function withEncoderHead(inner: CaptionModel, cfg: EncoderHeadConfig, head: Weights, config: CaptionModel['config']): CaptionModel {
  return {
    config,
    weights: { ...head, ...inner.weights },
    forward: (features, imageIndex, inputs, opts) => inner.forward(applyEncoderHead(head, cfg, features), imageIndex, inputs, opts),
    start: (features) => inner.start(applyEncoderHead(head, cfg, features)),
    next: (state, tokens) => inner.next(state, tokens),
  };
}
