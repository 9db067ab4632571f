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
import { type DecodeState, type CaptionModel, initWeights } from '../model.ts';
import { type Spec, type Weights, dense, denseSpec, dropout, embedding, embeddingSpec, meanPool, timeSteps } from '../blocks.ts';

export interface MergeLstmConfig {
  decoder: 'merge-lstm';
  featureShape: [number, number]; // [L, D]
  vocabSize: number;              // V
  embedDim: number;               // E: word-embedding size
  units: number;                  // U: LSTM units, image projection and merge layer
  dropout?: number;               // rate on the pooled image vector and on the word embeddings (training only)
}

// ---------------------------------------------------------------------------------------------- LSTM cell

/** LSTM (Keras, gate order i, f, g, o): input kernel [in, 4U], recurrent kernel [U, 4U], one bias [4U]. */
const lstmSpec = (name: string, inputs: number, units: number): Spec => ({
  [`${name}/kernel`]: [[inputs, 4 * units], 'glorot'],
  [`${name}/recurrent_kernel`]: [[units, 4 * units], 'glorot'],
  [`${name}/bias`]: [[4 * units], 'zeros'],
});

/** One LSTM step from the input projection xz = x·W + b (`dense(w, name, x)`) [B, 4U] and the state (h, c) [B, U] each. */
function lstmCell(w: Weights, name: string, xz: tf.Tensor2D, h: tf.Tensor2D, c: tf.Tensor2D) {
  const [xi, xf, xg, xo] = tf.split(tf.add(xz, tf.matMul(h, w[`${name}/recurrent_kernel`] as tf.Tensor2D)), 4, 1); // [B, U] each
  const cNext = tf.add(tf.mul(tf.sigmoid(xf), c), tf.mul(tf.sigmoid(xi), tf.tanh(xg))) as tf.Tensor2D;           // [B, U]
  const hNext = tf.mul(tf.sigmoid(xo), tf.tanh(cNext)) as tf.Tensor2D;                                           // [B, U]
  return { h: hNext, c: cNext };
}

/**
 * The LSTM under teacher forcing from a zero state: the input projection is one product over all time steps,
 * only the recurrent product runs step by step. x [B*T, E] -> outputs [B, T, U]
 */
function lstmLayer(w: Weights, name: string, x: tf.Tensor2D, B: number, T: number, U: number): tf.Tensor3D {
  const columns = timeSteps(dense(w, name, x), B, T);                                           // T x [B, 4U]
  let h = tf.zeros([B, U]) as tf.Tensor2D;
  let c = h;
  const outs: tf.Tensor2D[] = [];
  for (let t = 0; t < T; t++) {
    ({ h, c } = lstmCell(w, name, columns[t], h, c));
    outs.push(h);
  }
  return tf.stack(outs, 1) as tf.Tensor3D;                                                      // [B, T, U]
}

// ---------------------------------------------------------------------------------------------- image branch, merge head

/** pooled image vectors [N, D] -> relu(dense) -> image branch [N, U] */
const imageBranch = (w: Weights, pooled: tf.Tensor2D) => tf.relu(dense(w, 'image', pooled)) as tf.Tensor2D;

/** image [B, U] + LSTM outputs [B, T, U] (or [B, 1, U]) -> relu(dense) -> dense -> logits [B*T, V] */
function mergeHead(w: Weights, img: tf.Tensor2D, hs: tf.Tensor3D): tf.Tensor2D {
  const [B, T, U] = hs.shape;
  const merged = tf.add(hs, img.expandDims(1)).reshape([B * T, U]) as tf.Tensor2D;            // image added at every step
  return dense(w, 'output', tf.relu(dense(w, 'merge', merged)));
}

// ---------------------------------------------------------------------------------------------- the model

/** Every weight, in initWeights draw order. */
function mergeLstmSpec(config: MergeLstmConfig): Spec {
  const [, D] = config.featureShape;
  const { vocabSize: V, embedDim: E, units: U } = config;
  return {
    ...denseSpec('image', D, U), ...embeddingSpec('embedding', V, E), ...lstmSpec('lstm', E, U),
    ...denseSpec('merge', U, U), ...denseSpec('output', U, V),
  };
}

export function createMergeLstm(config: MergeLstmConfig, seed: number): CaptionModel {
  const { vocabSize: V, units: U } = config;
  const w = initWeights(seed, mergeLstmSpec(config));
  // Keras unit_forget_bias: the forget gate's bias (second quarter, gate order i, f, g, o) starts at 1.
  tf.tidy(() => w['lstm/bias'].assign(tf.concat([tf.zeros([U]), tf.ones([U]), tf.zeros([2 * U])])));

  return {
    config,
    weights: w,
    forward(features, imageIndex, inputs, opts = {}) {
      const [B, T] = inputs.shape;
      const drop = <X extends tf.Tensor>(x: X) => dropout(x, opts.dropout, config.dropout ?? 0);
      // Pool per image, then expand to the batch before dropout, so each caption draws its own image mask.
      const pooled = tf.gather(meanPool(features), imageIndex) as tf.Tensor2D;                  // [B, D]
      const img = imageBranch(w, drop(pooled));                                                 // [B, U]
      const embedded = drop(embedding(w, 'embedding', inputs.reshape([B * T])));                // [B*T, E]
      const hs = lstmLayer(w, 'lstm', embedded, B, T, U);                                       // [B, T, U]
      return mergeHead(w, img, hs).reshape([B, T, V]) as tf.Tensor3D;                           // [B, T, V]
    },
    start(features) {
      const B = features.shape[0];
      return { img: imageBranch(w, meanPool(features)), h: tf.zeros([B, U]), c: tf.zeros([B, U]) };
    },
    next(state: DecodeState, tokens) {
      const { img, h, c } = state as { img: tf.Tensor2D; h: tf.Tensor2D; c: tf.Tensor2D };
      const s = lstmCell(w, 'lstm', dense(w, 'lstm', embedding(w, 'embedding', tokens)), h, c); // [B, U] each
      return { logits: mergeHead(w, img, s.h.expandDims(1) as tf.Tensor3D), state: { img, h: s.h, c: s.c } };
    },
  };
}
