/**
 * Building blocks shared by more than one decoder. Each block is a pair: `<block>Spec` declares its weights
 * (names, shapes, initialisers, in the order initWeights draws them) and `<block>` is its forward pass over
 * those weights. Blocks are plain functions of (weights, name, inputs): no state beyond the named variables.
 *
 * The forward functions issue exactly the TF.js ops the decoders issued before they were split into blocks,
 * in the same order (float32 rounding, and the gradient tape, depend on it): do not fuse or reorder them.
 */
import { tf } from '@caption/core/tf';
import type { DropoutSeeds, initWeights } from './model.ts';

/** A model's variables by name (CaptionModel.weights). */
export type Weights = Record<string, tf.Variable>;
/** Weight declarations for initWeights: name -> [shape, initialiser], in draw order. */
export type Spec = Parameters<typeof initWeights>[1];

// ---------------------------------------------------------------------------------------------- dense

/** Dense (Keras Dense, no activation): kernel [m, n] (glorot), bias [n] (zeros). */
export const denseSpec = (name: string, m: number, n: number): Spec => ({
  [`${name}/kernel`]: [[m, n], 'glorot'],
  [`${name}/bias`]: [[n], 'zeros'],
});

/** x·kernel + bias: x [N, m] -> [N, n] */
export const dense = (w: Weights, name: string, x: tf.Tensor2D): tf.Tensor2D =>
  tf.add(tf.matMul(x, w[`${name}/kernel`] as tf.Tensor2D), w[`${name}/bias`]) as tf.Tensor2D;

// ---------------------------------------------------------------------------------------------- embedding

/** Embedding table [rows, dim] (uniform in ±0.05, as Keras). */
export const embeddingSpec = (name: string, rows: number, dim: number): Spec => ({ [name]: [[rows, dim], 'uniform'] });

/** Rows of the table: ids [N] -> [N, dim] */
export const embedding = (w: Weights, name: string, ids: tf.Tensor1D): tf.Tensor2D => tf.gather(w[name], ids) as tf.Tensor2D;

// ---------------------------------------------------------------------------------------------- pooling, dropout

/** Mean over the feature positions: features [N, L, D] -> [N, D] */
export const meanPool = (features: tf.Tensor3D): tf.Tensor2D => tf.mean(features, 1) as tf.Tensor2D;

/** Training-mode dropout at `rate` when seeds are given (a rate of 0 draws no mask); inference: x itself. */
export const dropout = <T extends tf.Tensor>(x: T, seeds: DropoutSeeds | undefined, rate = 0): T => (seeds ? seeds.apply(x, rate) : x);

// ---------------------------------------------------------------------------------------------- GRU cell

/** GRU (Keras, reset_after): input kernel [in, 3U], recurrent kernel [U, 3U], input and recurrent biases [3U]. */
export const gruSpec = (name: string, inputs: number, units: number): Spec => ({
  [`${name}/kernel`]: [[inputs, 3 * units], 'glorot'],
  [`${name}/recurrent_kernel`]: [[units, 3 * units], 'glorot'],
  [`${name}/bias`]: [[3 * units], 'zeros'],
  [`${name}/recurrent_bias`]: [[3 * units], 'zeros'],
});

/**
 * One GRU step from the input projection xz = x·W + b (`dense(w, name, x)`) [B, 3U] and the state h [B, U]:
 * gates z (update), r (reset), then the candidate with the reset applied after the recurrent product.
 */
export function gruCell(w: Weights, name: string, xz: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor2D {
  const hz = tf.add(tf.matMul(h, w[`${name}/recurrent_kernel`] as tf.Tensor2D), w[`${name}/recurrent_bias`]); // [B, 3U]
  const [xZ, xR, xH] = tf.split(xz, 3, 1);                                          // [B, U] each
  const [hZ, hR, hH] = tf.split(hz, 3, 1);
  const z = tf.sigmoid(tf.add(xZ, hZ));
  const r = tf.sigmoid(tf.add(xR, hR));
  const cand = tf.tanh(tf.add(xH, tf.mul(r, hH)));                                  // reset after the product
  return tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), cand)) as tf.Tensor2D;           // [B, U]
}

// ---------------------------------------------------------------------------------------------- time steps

/** Batched per-position rows [B*T, n] -> one tensor per time step, T x [B, n] (for a step-by-step recurrence). */
export const timeSteps = (x: tf.Tensor2D, B: number, T: number): tf.Tensor2D[] =>
  tf.unstack(x.reshape([B, T, x.shape[1]]), 1) as tf.Tensor2D[];

/** T x [B, U] step outputs -> batched rows [B*T, U] (for the output projection over all steps at once). */
export function stackSteps(outs: tf.Tensor2D[]): tf.Tensor2D {
  const stacked = tf.stack(outs, 1);                                                // [B, T, U]
  const [B, T, U] = stacked.shape;
  return stacked.reshape([B * T, U]) as tf.Tensor2D;
}
