/**
 * attention-gru: Show, Attend and Tell as the TensorFlow image-captioning tutorial builds it.
 *
 *   encoder   features [B, L, D] -> relu(dense) -> [B, L, E]
 *   attention score = V · tanh(W1·enc + W2·h)  -> softmax over L -> context [B, E]
 *   decoder   x = [context, embed(token)] -> GRU (reset_after, as Keras) -> fc1 -> fc2 -> logits [B, V]
 *
 * Teacher-forced training runs the GRU step by step but projects all time steps to the vocabulary in one
 * product (fc1/fc2 over [B*T, U]), which is where most of the FLOPs are. Weights are plain named
 * tf.Variables, so a checkpoint is just the TF.js weights format.
 */
import { tf } from '@caption/core/tf';
import { type DecodeState, type CaptionModel, initWeights } from '../model.ts';

export interface AttentionGruConfig {
  decoder: 'attention-gru';
  featureShape: [number, number]; // [L, D]
  vocabSize: number;              // V
  embedDim: number;               // E: encoder output and word embedding size
  units: number;                  // U: GRU units (also attention units)
  dropout?: number;               // rate on the GRU output before fc1 (training only)
  attentionReg?: number;          // λ of the doubly-stochastic attention regulariser Σ_l (1 - Σ_t α_tl)², 0 = off
}

export function createAttentionGru(config: AttentionGruConfig, seed: number): CaptionModel {
  const [, D] = config.featureShape;
  const { vocabSize: V, embedDim: E, units: U } = config;
  const w = initWeights(seed, {
    'encoder/kernel': [[D, E], 'glorot'], 'encoder/bias': [[E], 'zeros'],
    'embedding': [[V, E], 'uniform'],
    'attention/W1/kernel': [[E, U], 'glorot'], 'attention/W1/bias': [[U], 'zeros'],
    'attention/W2/kernel': [[U, U], 'glorot'], 'attention/W2/bias': [[U], 'zeros'],
    'attention/V/kernel': [[U, 1], 'glorot'], 'attention/V/bias': [[1], 'zeros'],
    'gru/kernel': [[2 * E, 3 * U], 'glorot'], 'gru/recurrent_kernel': [[U, 3 * U], 'glorot'],
    'gru/bias': [[3 * U], 'zeros'], 'gru/recurrent_bias': [[3 * U], 'zeros'],
    'fc1/kernel': [[U, U], 'glorot'], 'fc1/bias': [[U], 'zeros'],
    'fc2/kernel': [[U, V], 'glorot'], 'fc2/bias': [[V], 'zeros'],
  });

  const dense = (x: tf.Tensor2D, name: string) => tf.add(tf.matMul(x, w[`${name}/kernel`] as tf.Tensor2D), w[`${name}/bias`]) as tf.Tensor2D;

  /** [K, L, D] -> encoder output [K, L, E] and its attention projection W1·enc [K, L, U]. */
  function encode(features: tf.Tensor3D) {
    const [K, L] = features.shape;
    const enc2d = tf.relu(dense(features.reshape([K * L, D]), 'encoder'));  // [K*L, E]
    const keys = dense(enc2d, 'attention/W1').reshape([K, L, U]) as tf.Tensor3D;
    return { enc: enc2d.reshape([K, L, E]) as tf.Tensor3D, keys };
  }

  /** One decoder step before the output projection: returns the GRU output/new state and attention. */
  function step(enc: tf.Tensor3D, keys: tf.Tensor3D, h: tf.Tensor2D, tokens: tf.Tensor1D) {
    const [B, L] = enc.shape;
    const q = dense(h, 'attention/W2').expandDims(1);                       // [B, 1, U]
    const score = dense(tf.tanh(tf.add(keys, q)).reshape([B * L, U]) as tf.Tensor2D, 'attention/V'); // [B*L, 1]
    const alpha = tf.softmax(score.reshape([B, L]));                        // [B, L]
    const context = tf.matMul(alpha.expandDims(1), enc).reshape([B, E]);   // [B, E]
    const x = tf.concat([context, tf.gather(w['embedding'], tokens)], 1) as tf.Tensor2D; // [B, 2E]
    const xz = tf.add(tf.matMul(x, w['gru/kernel'] as tf.Tensor2D), w['gru/bias']);   // [B, 3U]
    const hz = tf.add(tf.matMul(h, w['gru/recurrent_kernel'] as tf.Tensor2D), w['gru/recurrent_bias']);
    const [xZ, xR, xH] = tf.split(xz, 3, 1);
    const [hZ, hR, hH] = tf.split(hz, 3, 1);
    const z = tf.sigmoid(tf.add(xZ, hZ));
    const r = tf.sigmoid(tf.add(xR, hR));
    const cand = tf.tanh(tf.add(xH, tf.mul(r, hH)));
    const hNext = tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), cand)) as tf.Tensor2D; // [B, U]
    return { h: hNext, alpha };
  }

  const project = (out: tf.Tensor2D) => dense(dense(out, 'fc1'), 'fc2'); // [N, U] -> [N, V]

  return {
    config,
    weights: w,
    forward(features, imageIndex, inputs, opts = {}) {
      const [B, T] = inputs.shape;
      const { enc, keys } = encode(features);
      // Captions of the same image share one encoder pass; gather expands it to the batch.
      const encB = tf.gather(enc, imageIndex) as tf.Tensor3D;
      const keysB = tf.gather(keys, imageIndex) as tf.Tensor3D;
      let h = tf.zeros([B, U]) as tf.Tensor2D;
      const outs: tf.Tensor2D[] = [];
      const alphas: tf.Tensor[] = [];
      const columns = tf.unstack(inputs, 1) as tf.Tensor1D[];
      for (let t = 0; t < T; t++) {
        const s = step(encB, keysB, h, columns[t]);
        h = s.h;
        outs.push(h);
        alphas.push(s.alpha);
      }
      if (opts.aux && config.attentionReg) {
        // Show, Attend and Tell §4.2.1: push every location to receive ~1 unit of attention over the caption.
        const mask = tf.cast(tf.notEqual(inputs, 0), 'float32').expandDims(2);           // [B, T, 1]
        const total = tf.sum(tf.mul(tf.stack(alphas, 1), mask), 1);                       // [B, L]
        opts.aux.penalty = tf.mul(config.attentionReg, tf.mean(tf.sum(tf.square(tf.sub(1, total)), 1))) as tf.Scalar;
      }
      let all = tf.stack(outs, 1).reshape([B * T, U]) as tf.Tensor2D;       // [B*T, U]
      if (opts.dropout) all = opts.dropout.apply(all, config.dropout ?? 0);
      return project(all).reshape([B, T, V]) as tf.Tensor3D;                 // [B, T, V]
    },
    start(features) {
      const { enc, keys } = encode(features);
      return { enc, keys, h: tf.zeros([features.shape[0], U]) };
    },
    next(state: DecodeState, tokens) {
      const { enc, keys, h } = state as { enc: tf.Tensor3D; keys: tf.Tensor3D; h: tf.Tensor2D };
      const out = step(enc, keys, h, tokens);
      return { logits: project(out.h), attention: out.alpha as tf.Tensor2D, state: { enc, keys, h: out.h } };
    },
  };
}
