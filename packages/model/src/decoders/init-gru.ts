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
import {
  type Spec, type Weights, dense, denseSpec, dropout, embedding, embeddingSpec, gruCell, gruSpec, meanPool, stackSteps, timeSteps,
} from '../blocks.ts';

export interface InitGruConfig {
  decoder: 'init-gru';
  featureShape: [number, number]; // [L, D]
  vocabSize: number;              // V
  embedDim: number;               // E: word-embedding size
  units: number;                  // U: GRU units per layer (and the image projection)
  layers?: number;                // N: stacked GRUs (default 3)
  dropout?: number;               // rate on the last GRU's output before the output dense (training only)
}

// ---------------------------------------------------------------------------------------------- blocks

/** The image as the initial state: features [K, L, D] -> mean over L -> tanh(dense) -> h0 [K, U] */
const initialState = (w: Weights, features: tf.Tensor3D) => tf.tanh(dense(w, 'transfer_map', meanPool(features))) as tf.Tensor2D;

/**
 * One GRU layer under teacher forcing: the input projection is one product over all time steps, then only the
 * recurrent product runs step by step from h0. x [B*T, in], h0 [B, U] -> outputs [B*T, U]
 */
function gruLayer(w: Weights, name: string, x: tf.Tensor2D, h0: tf.Tensor2D, B: number, T: number): tf.Tensor2D {
  const columns = timeSteps(dense(w, name, x), B, T);                                        // T x [B, 3U]
  let h = h0;
  const outs: tf.Tensor2D[] = [];
  for (let t = 0; t < T; t++) outs.push((h = gruCell(w, name, columns[t], h)));              // [B, U]
  return stackSteps(outs);                                                                   // [B*T, U]
}

const layerName = (l: number) => `gru_${l}`;                                                 // l = 1..N

// ---------------------------------------------------------------------------------------------- the model

/** Every weight, in initWeights draw order. */
function initGruSpec(config: InitGruConfig, N: number): Spec {
  const [, D] = config.featureShape;
  const { vocabSize: V, embedDim: E, units: U } = config;
  return {
    ...denseSpec('transfer_map', D, U), ...embeddingSpec('embedding', V, E),
    ...Object.assign({}, ...Array.from({ length: N }, (_, i) => gruSpec(layerName(i + 1), i === 0 ? E : U, U))) as Spec,
    ...denseSpec('output', U, V),
  };
}

export function createInitGru(config: InitGruConfig, seed: number): CaptionModel {
  const V = config.vocabSize;
  const N = config.layers ?? 3;
  const w = initWeights(seed, initGruSpec(config, N));

  return {
    config,
    weights: w,
    forward(features, imageIndex, inputs, opts = {}) {
      const [B, T] = inputs.shape;
      // Captions of the same image share one image projection; gather expands it to the batch.
      const h0 = tf.gather(initialState(w, features), imageIndex) as tf.Tensor2D;             // [B, U]
      let x = embedding(w, 'embedding', inputs.reshape([B * T]));                             // [B*T, E]
      for (let l = 1; l <= N; l++) x = gruLayer(w, layerName(l), x, h0, B, T);                 // [B*T, U]
      x = dropout(x, opts.dropout, config.dropout ?? 0);
      return dense(w, 'output', x).reshape([B, T, V]) as tf.Tensor3D;                          // [B, T, V]
    },
    start(features) {
      const h0 = initialState(w, features);                                                   // [B, U]
      // one tensor per layer (not one shared object), so a caller may dispose each entry on its own
      return Object.fromEntries(Array.from({ length: N }, (_, i) => [`h${i + 1}`, i === 0 ? h0 : h0.clone()]));
    },
    next(state: DecodeState, tokens) {
      let x = embedding(w, 'embedding', tokens);                                              // [B, E]
      const out: DecodeState = {};
      for (let l = 1; l <= N; l++) {
        const name = layerName(l);
        x = out[`h${l}`] = gruCell(w, name, dense(w, name, x), state[`h${l}`] as tf.Tensor2D); // [B, U]
      }
      return { logits: dense(w, 'output', x), state: out };                                   // [B, V]
    },
  };
}
