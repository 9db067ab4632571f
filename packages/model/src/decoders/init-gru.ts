/**
 * init-gru: the image sets the initial state of a GRU stack (Hvass-Labs TensorFlow tutorial 22).
 *
 *   image     features [B, L, D] -> mean over L -> tanh(dense) -> h0 [B, U], the initial state of every layer
 *   decoder   embed(token) [B, E] -> GRU_1 -> ... -> GRU_N (reset_after, as Keras) -> dropout -> dense -> logits [B, V]
 *
 * No attention: the image enters only through the initial state. Teacher forcing runs the stack layer by layer:
 * each layer's input projection is one product over all time steps ([B*T, in] x [in, 3U]), then only the
 * recurrent product runs step by step; the output projection is batched over all time steps too.
 */
import { tf } from '@caption/core/tf';
import { type DecodeState, type CaptionModel, initWeights } from '../model.ts';

export interface InitGruConfig {
  decoder: 'init-gru';
  featureShape: [number, number]; // [L, D]
  vocabSize: number;              // V
  embedDim: number;               // E: word-embedding size
  units: number;                  // U: GRU units per layer (and the image projection)
  layers?: number;                // N: stacked GRUs (default 3)
  dropout?: number;               // rate on the last GRU's output before the output dense (training only)
}

type Spec = Parameters<typeof initWeights>[1];

export function createInitGru(config: InitGruConfig, seed: number): CaptionModel {
  const [, D] = config.featureShape;
  const { vocabSize: V, embedDim: E, units: U } = config;
  const N = config.layers ?? 3;
  const gru = (l: number, inputs: number): Spec => ({
    [`gru_${l}/kernel`]: [[inputs, 3 * U], 'glorot'], [`gru_${l}/recurrent_kernel`]: [[U, 3 * U], 'glorot'],
    [`gru_${l}/bias`]: [[3 * U], 'zeros'], [`gru_${l}/recurrent_bias`]: [[3 * U], 'zeros'],
  });
  const w = initWeights(seed, {
    'transfer_map/kernel': [[D, U], 'glorot'], 'transfer_map/bias': [[U], 'zeros'],
    'embedding': [[V, E], 'uniform'],
    ...Object.assign({}, ...Array.from({ length: N }, (_, i) => gru(i + 1, i === 0 ? E : U))) as Spec,
    'output/kernel': [[U, V], 'glorot'], 'output/bias': [[V], 'zeros'],
  });

  const dense = (x: tf.Tensor2D, name: string) => tf.add(tf.matMul(x, w[`${name}/kernel`] as tf.Tensor2D), w[`${name}/bias`]) as tf.Tensor2D;

  /** features [K, L, D] -> initial state [K, U] */
  const initialState = (features: tf.Tensor3D) => tf.tanh(dense(tf.mean(features, 1) as tf.Tensor2D, 'transfer_map')) as tf.Tensor2D;

  /** One GRU step of layer l from its input projection xz = x·W + b [B, 3U] and state h [B, U]. */
  function cell(l: number, xz: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor2D {
    const hz = tf.add(tf.matMul(h, w[`gru_${l}/recurrent_kernel`] as tf.Tensor2D), w[`gru_${l}/recurrent_bias`]);
    const [xZ, xR, xH] = tf.split(xz, 3, 1);
    const [hZ, hR, hH] = tf.split(hz, 3, 1);
    const z = tf.sigmoid(tf.add(xZ, hZ));
    const r = tf.sigmoid(tf.add(xR, hR));
    const cand = tf.tanh(tf.add(xH, tf.mul(r, hH)));                                // reset after the product
    return tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), cand)) as tf.Tensor2D;         // [B, U]
  }
  const inputProjection = (x: tf.Tensor2D, l: number) =>
    tf.add(tf.matMul(x, w[`gru_${l}/kernel`] as tf.Tensor2D), w[`gru_${l}/bias`]) as tf.Tensor2D;

  return {
    config,
    weights: w,
    forward(features, imageIndex, inputs, opts = {}) {
      const [B, T] = inputs.shape;
      // Captions of the same image share one image projection; gather expands it to the batch.
      const h0 = tf.gather(initialState(features), imageIndex) as tf.Tensor2D;             // [B, U]
      let x = tf.gather(w['embedding'], inputs.reshape([B * T])) as tf.Tensor2D;           // [B*T, E]
      for (let l = 1; l <= N; l++) {
        const columns = tf.unstack(inputProjection(x, l).reshape([B, T, 3 * U]), 1) as tf.Tensor2D[]; // T x [B, 3U]
        let h = h0;
        const outs: tf.Tensor2D[] = [];
        for (let t = 0; t < T; t++) outs.push((h = cell(l, columns[t], h)));
        x = tf.stack(outs, 1).reshape([B * T, U]) as tf.Tensor2D;                          // [B*T, U]
      }
      if (opts.dropout) x = opts.dropout.apply(x, config.dropout ?? 0);
      return dense(x, 'output').reshape([B, T, V]) as tf.Tensor3D;                          // [B, T, V]
    },
    start(features) {
      const h0 = initialState(features);
      // one tensor per layer (not one shared object), so a caller may dispose each entry on its own
      return Object.fromEntries(Array.from({ length: N }, (_, i) => [`h${i + 1}`, i === 0 ? h0 : h0.clone()]));
    },
    next(state: DecodeState, tokens) {
      let x = tf.gather(w['embedding'], tokens) as tf.Tensor2D;                             // [B, E]
      const out: DecodeState = {};
      for (let l = 1; l <= N; l++) x = (out[`h${l}`] = cell(l, inputProjection(x, l), state[`h${l}`] as tf.Tensor2D));
      return { logits: dense(x, 'output'), state: out };
    },
  };
}
