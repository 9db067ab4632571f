/**
 * merge-lstm: the "merge" architecture (Tanti et al. 2017; the classic Keras Flickr8k tutorial): the image never
 * enters the RNN, it is merged with the language model's output.
 *
 *   image     features [B, L, D] -> mean over L -> dropout -> relu(dense) -> img [B, U]
 *   caption   embed(token) [B, E] -> dropout -> LSTM (i, f, g, o; forget bias 1) -> h [B, U]
 *   merge     img + h -> relu(dense) [B, U] -> dense -> logits [B, V]      (at every time step)
 *
 * Teacher forcing: the LSTM input projection is one product over all time steps, only the recurrent product runs
 * step by step; the merge and both dense layers run batched over [B*T, U].
 */
import { tf } from '@caption/core/tf';
import { type DecodeState, type CaptionModel, type DropoutSeeds, initWeights } from '../model.ts';

export interface MergeLstmConfig {
  decoder: 'merge-lstm';
  featureShape: [number, number]; // [L, D]
  vocabSize: number;              // V
  embedDim: number;               // E: word-embedding size
  units: number;                  // U: LSTM units, image projection and merge layer
  dropout?: number;               // rate on the pooled image vector and on the word embeddings (training only)
}

export function createMergeLstm(config: MergeLstmConfig, seed: number): CaptionModel {
  const [, D] = config.featureShape;
  const { vocabSize: V, embedDim: E, units: U } = config;
  const w = initWeights(seed, {
    'image/kernel': [[D, U], 'glorot'], 'image/bias': [[U], 'zeros'],
    'embedding': [[V, E], 'uniform'],
    'lstm/kernel': [[E, 4 * U], 'glorot'], 'lstm/recurrent_kernel': [[U, 4 * U], 'glorot'], 'lstm/bias': [[4 * U], 'zeros'],
    'merge/kernel': [[U, U], 'glorot'], 'merge/bias': [[U], 'zeros'],
    'output/kernel': [[U, V], 'glorot'], 'output/bias': [[V], 'zeros'],
  });
  // Keras unit_forget_bias: the forget gate's bias (second quarter, gate order i, f, g, o) starts at 1.
  tf.tidy(() => w['lstm/bias'].assign(tf.concat([tf.zeros([U]), tf.ones([U]), tf.zeros([2 * U])])));

  const dense = (x: tf.Tensor2D, name: string) => tf.add(tf.matMul(x, w[`${name}/kernel`] as tf.Tensor2D), w[`${name}/bias`]) as tf.Tensor2D;
  const drop = <T extends tf.Tensor>(x: T, seeds?: DropoutSeeds) => (seeds ? seeds.apply(x, config.dropout ?? 0) : x);

  /** pooled image vectors [N, D] -> image branch [N, U] */
  const imageBranch = (pooled: tf.Tensor2D) => tf.relu(dense(pooled, 'image')) as tf.Tensor2D;

  /** One LSTM step from the input projection xz = x·W + b [B, 4U] and the state (h, c) [B, U] each. */
  function cell(xz: tf.Tensor2D, h: tf.Tensor2D, c: tf.Tensor2D) {
    const [xi, xf, xg, xo] = tf.split(tf.add(xz, tf.matMul(h, w['lstm/recurrent_kernel'] as tf.Tensor2D)), 4, 1);
    const cNext = tf.add(tf.mul(tf.sigmoid(xf), c), tf.mul(tf.sigmoid(xi), tf.tanh(xg))) as tf.Tensor2D;
    const hNext = tf.mul(tf.sigmoid(xo), tf.tanh(cNext)) as tf.Tensor2D;
    return { h: hNext, c: cNext };
  }
  const inputProjection = (x: tf.Tensor2D) => tf.add(tf.matMul(x, w['lstm/kernel'] as tf.Tensor2D), w['lstm/bias']) as tf.Tensor2D;

  /** image [B, U] + LSTM outputs [B, T, U] (or [B, 1, U]) -> logits [B*T, V] */
  function merge(img: tf.Tensor2D, hs: tf.Tensor3D): tf.Tensor2D {
    const [B, T] = hs.shape;
    const merged = tf.add(hs, img.expandDims(1)).reshape([B * T, U]) as tf.Tensor2D;  // image added at every step
    return dense(tf.relu(dense(merged, 'merge')), 'output');
  }

  return {
    config,
    weights: w,
    forward(features, imageIndex, inputs, opts = {}) {
      const [B, T] = inputs.shape;
      // Pool per image, then expand to the batch before dropout, so each caption draws its own image mask.
      const pooled = tf.gather(tf.mean(features, 1), imageIndex) as tf.Tensor2D;                 // [B, D]
      const img = imageBranch(drop(pooled, opts.dropout));                                      // [B, U]
      const embedded = drop(tf.gather(w['embedding'], inputs.reshape([B * T])) as tf.Tensor2D, opts.dropout); // [B*T, E]
      const columns = tf.unstack(inputProjection(embedded).reshape([B, T, 4 * U]), 1) as tf.Tensor2D[];
      let h = tf.zeros([B, U]) as tf.Tensor2D;
      let c = h;
      const outs: tf.Tensor2D[] = [];
      for (let t = 0; t < T; t++) {
        ({ h, c } = cell(columns[t], h, c));
        outs.push(h);
      }
      return merge(img, tf.stack(outs, 1) as tf.Tensor3D).reshape([B, T, V]) as tf.Tensor3D;   // [B, T, V]
    },
    start(features) {
      const B = features.shape[0];
      return { img: imageBranch(tf.mean(features, 1) as tf.Tensor2D), h: tf.zeros([B, U]), c: tf.zeros([B, U]) };
    },
    next(state: DecodeState, tokens) {
      const { img } = state as { img: tf.Tensor2D };
      const s = cell(inputProjection(tf.gather(w['embedding'], tokens) as tf.Tensor2D), state.h as tf.Tensor2D, state.c as tf.Tensor2D);
      return { logits: merge(img, s.h.expandDims(1) as tf.Tensor3D), state: { img, h: s.h, c: s.c } };
    },
  };
}
