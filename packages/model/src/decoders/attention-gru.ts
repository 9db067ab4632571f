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
import { type Spec, type Weights, dense, denseSpec, dropout, embedding, embeddingSpec, gruCell, gruSpec, stackSteps } from '../blocks.ts';

export interface AttentionGruConfig {
  decoder: 'attention-gru';
  featureShape: [number, number]; // [L, D]
  vocabSize: number;              // V
  embedDim: number;               // E: encoder output and word embedding size
  units: number;                  // U: GRU units (also attention units)
  dropout?: number;               // rate on the GRU output before fc1 (training only)
  attentionReg?: number;          // λ of the doubly-stochastic attention regulariser Σ_l (1 - Σ_t α_tl)², 0 = off
}

// ---------------------------------------------------------------------------------------------- Bahdanau attention

/** W1 (encoder output E -> U), W2 (state U -> U), V (U -> 1 score). */
const bahdanauSpec = (name: string, E: number, U: number): Spec => ({
  ...denseSpec(`${name}/W1`, E, U), ...denseSpec(`${name}/W2`, U, U), ...denseSpec(`${name}/V`, U, 1),
});

/** The keys W1·enc, computed once per image: enc [N*L, E] -> [N*L, U] */
const bahdanauKeys = (w: Weights, name: string, enc: tf.Tensor2D) => dense(w, `${name}/W1`, enc);

/**
 * Additive attention of the state h [B, U] over enc [B, L, E] with keys [B, L, U]:
 * score = V · tanh(keys + W2·h), softmax over L -> alpha [B, L], context = Σ_l alpha·enc [B, E].
 */
function bahdanauAttention(w: Weights, name: string, enc: tf.Tensor3D, keys: tf.Tensor3D, h: tf.Tensor2D) {
  const [B, L, E] = enc.shape;
  const U = keys.shape[2];
  const q = dense(w, `${name}/W2`, h).expandDims(1);                                         // [B, 1, U]
  const score = dense(w, `${name}/V`, tf.tanh(tf.add(keys, q)).reshape([B * L, U]) as tf.Tensor2D); // [B*L, 1]
  const alpha = tf.softmax(score.reshape([B, L])) as tf.Tensor2D;                             // [B, L]
  const context = tf.matMul(alpha.expandDims(1), enc).reshape([B, E]) as tf.Tensor2D;        // [B, E]
  return { context, alpha };
}

/**
 * Show, Attend and Tell §4.2.1, the doubly-stochastic regulariser: push every location to receive ~1 unit of
 * attention over the caption. alphas T x [B, L], inputs [B, T] (<pad> steps do not count) -> λ·mean_b Σ_l (1 - Σ_t α)².
 */
function attentionPenalty(alphas: tf.Tensor2D[], inputs: tf.Tensor2D, lambda: number): tf.Scalar {
  const mask = tf.cast(tf.notEqual(inputs, 0), 'float32').expandDims(2);                      // [B, T, 1]
  const total = tf.sum(tf.mul(tf.stack(alphas, 1), mask), 1);                                  // [B, L]
  return tf.mul(lambda, tf.mean(tf.sum(tf.square(tf.sub(1, total)), 1))) as tf.Scalar;
}

// ---------------------------------------------------------------------------------------------- encoder, decoder step, head

/** features [K, L, D] -> encoder output relu(dense) [K, L, E] and its attention keys [K, L, U]. */
function encoder(w: Weights, features: tf.Tensor3D, E: number, U: number) {
  const [K, L, D] = features.shape;
  const enc2d = tf.relu(dense(w, 'encoder', features.reshape([K * L, D])));                   // [K*L, E]
  const keys = bahdanauKeys(w, 'attention', enc2d).reshape([K, L, U]) as tf.Tensor3D;          // [K, L, U]
  return { enc: enc2d.reshape([K, L, E]) as tf.Tensor3D, keys };
}

/** One decoder step before the output head: attend with h, then GRU over [context, embed(token)] [B, 2E] -> h [B, U]. */
function decoderStep(w: Weights, enc: tf.Tensor3D, keys: tf.Tensor3D, h: tf.Tensor2D, tokens: tf.Tensor1D) {
  const { context, alpha } = bahdanauAttention(w, 'attention', enc, keys, h);                 // [B, E], [B, L]
  const x = tf.concat([context, embedding(w, 'embedding', tokens)], 1) as tf.Tensor2D;         // [B, 2E]
  return { h: gruCell(w, 'gru', dense(w, 'gru', x), h), alpha };                              // [B, U]
}

/** Teacher forcing, step by step over inputs [B, T]: every step's state T x [B, U] and attention T x [B, L]. */
function decodeSequence(w: Weights, enc: tf.Tensor3D, keys: tf.Tensor3D, inputs: tf.Tensor2D, U: number) {
  const [B, T] = inputs.shape;
  let h = tf.zeros([B, U]) as tf.Tensor2D;
  const outs: tf.Tensor2D[] = [];
  const alphas: tf.Tensor2D[] = [];
  const columns = tf.unstack(inputs, 1) as tf.Tensor1D[];                                       // T x [B]
  for (let t = 0; t < T; t++) {
    const s = decoderStep(w, enc, keys, h, columns[t]);
    h = s.h;
    outs.push(h);
    alphas.push(s.alpha);
  }
  return { outs, alphas };
}

/** fc1 -> fc2 (no activation between, as the tutorial): [N, U] -> logits [N, V] */
const outputHead = (w: Weights, out: tf.Tensor2D) => dense(w, 'fc2', dense(w, 'fc1', out));

// ---------------------------------------------------------------------------------------------- the model

/** Every weight, in initWeights draw order. */
function attentionGruSpec(config: AttentionGruConfig): Spec {
  const [, D] = config.featureShape;
  const { vocabSize: V, embedDim: E, units: U } = config;
  return {
    ...denseSpec('encoder', D, E), ...embeddingSpec('embedding', V, E), ...bahdanauSpec('attention', E, U),
    ...gruSpec('gru', 2 * E, U), ...denseSpec('fc1', U, U), ...denseSpec('fc2', U, V),
  };
}

export function createAttentionGru(config: AttentionGruConfig, seed: number): CaptionModel {
  const { vocabSize: V, embedDim: E, units: U } = config;
  const w = initWeights(seed, attentionGruSpec(config));

  return {
    config,
    weights: w,
    forward(features, imageIndex, inputs, opts = {}) {
      const [B, T] = inputs.shape;
      const { enc, keys } = encoder(w, features, E, U);
      // Captions of the same image share one encoder pass; gather expands it to the batch.
      const encB = tf.gather(enc, imageIndex) as tf.Tensor3D;                                   // [B, L, E]
      const keysB = tf.gather(keys, imageIndex) as tf.Tensor3D;                                 // [B, L, U]
      const { outs, alphas } = decodeSequence(w, encB, keysB, inputs, U);
      if (opts.aux && config.attentionReg) opts.aux.penalty = attentionPenalty(alphas, inputs, config.attentionReg);
      const all = dropout(stackSteps(outs), opts.dropout, config.dropout ?? 0);                  // [B*T, U]
      return outputHead(w, all).reshape([B, T, V]) as tf.Tensor3D;                              // [B, T, V]
    },
    start(features) {
      const { enc, keys } = encoder(w, features, E, U);
      return { enc, keys, h: tf.zeros([features.shape[0], U]) };
    },
    next(state: DecodeState, tokens) {
      const { enc, keys, h } = state as { enc: tf.Tensor3D; keys: tf.Tensor3D; h: tf.Tensor2D };
      const out = decoderStep(w, enc, keys, h, tokens);
      return { logits: outputHead(w, out.h), attention: out.alpha, state: { enc, keys, h: out.h } };
    },
  };
}
