/**
 * transformer: the Keras example "Image captioning with transformers" (one encoder block, one decoder block).
 *
 *   encoder   features [K, L, D] -> layer norm -> relu(dense) -> dropout''  [K, L, E]
 *             -> multi-head self-attention + residual -> layer norm          -> enc [K, L, E]
 *   decoder   x = embed(token)·√E + position embedding -> dropout'           [B, T, E]
 *             -> causal multi-head self-attention -> dropout' + residual -> layer norm
 *             -> cross-attention to enc -> dropout' + residual -> layer norm
 *             -> dense relu (U) -> dropout -> dense (E) + residual -> layer norm -> dropout
 *             -> dense                                                      -> logits [B, T, V]
 *
 * dropout' (`residualDropout`, off by default) is the original Transformer's (Vaswani et al. 2017) dropout on the
 * embedding sum and on each attention sub-layer's output before its residual add; dropout'' (`encoderDropout`, off by
 * default) is on the projected image features, as captioning codebases drop their "att_embed" output. The Keras
 * example has neither; on Flickr8k neither lowered the dev loss (README, "The Flickr8k experiment").
 *
 * Layer norm and attention are written from tf ops (Keras semantics: MultiHeadAttention with key_dim = E per
 * head and biased q/k/v/output projections; LayerNormalization with ε = 1e-3). Teacher forcing is one parallel
 * pass over T under a causal mask (-1e9 added to the logits of future positions; softmax on the last axis).
 * No padding mask: <pad> only trails a caption, so under the causal mask no real position ever attends to one,
 * and the loss ignores the <pad> positions themselves.
 *
 * Decoding is incremental (a key/value cache): the state holds the cross-attention keys/values of the encoder
 * output and the self-attention keys/values of every position so far, so each `next` runs the decoder block on
 * the new position only — the same numbers as teacher forcing, since under the causal mask position t sees only
 * positions <= t — and returns its logits and its cross-attention weights averaged over heads.
 */
import { PipelineError } from '@caption/core';
import { tf } from '@caption/core/tf';
import { type DecodeState, type CaptionModel, initWeights } from '../model.ts';

export interface TransformerConfig {
  decoder: 'transformer';
  featureShape: [number, number]; // [L, D]
  vocabSize: number;              // V
  embedDim: number;               // E: model width (encoder output, embeddings, attention output)
  units: number;                  // U: feed-forward hidden size (Keras ff_dim)
  heads?: number;                 // H: attention heads, encoder and decoder (default 2)
  keyDim?: number;                // K: query/key/value size per head (default E, as Keras key_dim=embed_dim)
  maxLength?: number;             // longest decoder input, the rows of the position embedding (default 64)
  dropout?: number;               // rate after the FFN hidden layer and before the output dense (training only)
  residualDropout?: number;       // rate on the embedding sum and the attention outputs before their residual adds
  encoderDropout?: number;        // rate on the projected image features (the encoder's relu(dense) output)
}

type Spec = Parameters<typeof initWeights>[1];
type Dropout = (x: tf.Tensor2D) => tf.Tensor2D;

const EPSILON = 1e-3;   // Keras LayerNormalization default
const MASKED = -1e9;    // added to attention logits of positions a query may not see

export function createTransformer(config: TransformerConfig, seed: number): CaptionModel {
  const [, D] = config.featureShape;
  const { vocabSize: V, embedDim: E, units: U } = config;
  const H = config.heads ?? 2;
  const K = config.keyDim ?? E;
  const maxLength = config.maxLength ?? 64;

  const layerNorm = (name: string, n: number): Spec => ({ [`${name}/gamma`]: [[n], 'zeros'], [`${name}/beta`]: [[n], 'zeros'] });
  const dense = (name: string, m: number, n: number): Spec => ({ [`${name}/kernel`]: [[m, n], 'glorot'], [`${name}/bias`]: [[n], 'zeros'] });
  const attention = (name: string): Spec => ({
    ...dense(`${name}/query`, E, H * K), ...dense(`${name}/key`, E, H * K), ...dense(`${name}/value`, E, H * K),
    ...dense(`${name}/output`, H * K, E),
  });
  const w = initWeights(seed, {
    ...layerNorm('encoder/layernorm_1', D), ...dense('encoder/dense', D, E),
    ...attention('encoder/attention'), ...layerNorm('encoder/layernorm_2', E),
    'decoder/token_embedding': [[V, E], 'uniform'], 'decoder/position_embedding': [[maxLength, E], 'uniform'],
    ...attention('decoder/attention_1'), ...layerNorm('decoder/layernorm_1', E),
    ...attention('decoder/attention_2'), ...layerNorm('decoder/layernorm_2', E),
    ...dense('decoder/ffn_1', E, U), ...dense('decoder/ffn_2', U, E), ...layerNorm('decoder/layernorm_3', E),
    ...dense('decoder/output', E, V),
  });
  // initWeights has no 'ones' initialiser: layer-norm scales start at 1.
  tf.tidy(() => { for (const [k, v] of Object.entries(w)) if (k.endsWith('/gamma')) v.assign(tf.onesLike(v)); });

  /** x [N, m] -> [N, n] */
  const linear = (x: tf.Tensor2D, name: string) => tf.add(tf.matMul(x, w[`${name}/kernel`] as tf.Tensor2D), w[`${name}/bias`]) as tf.Tensor2D;
  /** x [N, n], normalised over the last axis. */
  function norm(x: tf.Tensor2D, name: string): tf.Tensor2D {
    const centred = tf.sub(x, tf.mean(x, -1, true));
    const std = tf.sqrt(tf.add(tf.mean(tf.square(centred), -1, true), EPSILON));
    return tf.add(tf.mul(tf.div(centred, std), w[`${name}/gamma`]), w[`${name}/beta`]) as tf.Tensor2D;
  }
  /** [N, S, E] -> per-head projection [N*H, S, K] */
  function project(x: tf.Tensor3D, name: string): tf.Tensor3D {
    const [N, S] = x.shape;
    const y = linear(x.reshape([N * S, E]), name).reshape([N, S, H, K]);
    return tf.transpose(y, [0, 2, 1, 3]).reshape([N * H, S, K]) as tf.Tensor3D;
  }
  /**
   * Multi-head attention of queries q [B, Tq, E] over keys/values already projected to heads ([B*H, Tk, K]);
   * mask [Tq, Tk] is added to the logits. Returns the output [B*Tq, E] and the weights [B*H, Tq, Tk].
   */
  function attend(name: string, q: tf.Tensor3D, keys: tf.Tensor3D, values: tf.Tensor3D, mask?: tf.Tensor2D) {
    const [B, Tq] = q.shape;
    let logits = tf.mul(tf.matMul(project(q, `${name}/query`), keys, false, true), 1 / Math.sqrt(K)); // [B*H, Tq, Tk]
    if (mask) logits = tf.add(logits, mask);
    const weights = tf.softmax(logits) as tf.Tensor3D;                                                   // last axis
    const heads = tf.matMul(weights, values).reshape([B, H, Tq, K]);                                    // [B, H, Tq, K]
    const merged = tf.transpose(heads, [0, 2, 1, 3]).reshape([B * Tq, H * K]) as tf.Tensor2D;
    return { out: linear(merged, `${name}/output`), weights };                                          // [B*Tq, E]
  }

  /** features [N, L, D] -> the decoder's cross-attention keys and values per image, [N, H, L, K] each. */
  function encode(features: tf.Tensor3D, dropout?: Dropout) {
    const [N, L] = features.shape;
    const projected = tf.relu(linear(norm(features.reshape([N * L, D]), 'encoder/layernorm_1'), 'encoder/dense')); // [N*L, E]
    const x = dropout ? dropout(projected) : projected;
    const x3 = x.reshape([N, L, E]) as tf.Tensor3D;
    const self = attend('encoder/attention', x3, project(x3, 'encoder/attention/key'), project(x3, 'encoder/attention/value'));
    const enc = norm(tf.add(x, self.out), 'encoder/layernorm_2').reshape([N, L, E]) as tf.Tensor3D;      // [N, L, E]
    const byImage = (x: tf.Tensor3D) => x.reshape([N, H, L, K]) as tf.Tensor4D; // batch-major, as DecodeState wants
    return { keys: byImage(project(enc, 'decoder/attention_2/key')), values: byImage(project(enc, 'decoder/attention_2/value')) };
  }

  /** [T, T] additive mask: position t sees positions <= t. */
  function causalMask(T: number): tf.Tensor2D {
    const m = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = MASKED;
    return tf.tensor2d(m, [T, T]);
  }

  /** Token embedding·√E + position embedding of tokens [B, T] at positions from..from+T-1 -> [B, T, E]. */
  function embed(tokens: tf.Tensor2D, from: number): tf.Tensor3D {
    const [B, T] = tokens.shape;
    if (from + T > maxLength) throw new PipelineError('config', `transformer: input of ${from + T} tokens exceeds maxLength ${maxLength}`);
    const embedded = tf.mul(tf.gather(w['decoder/token_embedding'], tokens.reshape([B * T])), Math.sqrt(E)).reshape([B, T, E]);
    return tf.add(embedded, tf.slice(w['decoder/position_embedding'], [from, 0], [T, E])) as tf.Tensor3D;
  }

  /** [B, S, E] -> this position range's self-attention keys or values, batch-major [B, H, S, K] (the decoding cache). */
  const selfProjection = (x: tf.Tensor3D, name: 'key' | 'value') =>
    project(x, `decoder/attention_1/${name}`).reshape([x.shape[0], H, x.shape[1], K]) as tf.Tensor4D;

  /**
   * The decoder block over embedded positions x [B, T, E], given the self-attention keys/values of every position
   * they may see ([B, H, S, K], S >= T) and the cross keys/values [B, H, L, K]: returns the final hidden states
   * [B*T, E] (before the output dense) and the cross-attention weights [B*H, T, L].
   */
  function block(x: tf.Tensor3D, self: { keys: tf.Tensor4D; values: tf.Tensor4D; mask?: tf.Tensor2D }, cross: { keys: tf.Tensor4D; values: tf.Tensor4D }, dropout?: Dropout, residualDropout?: Dropout) {
    const [B, T] = x.shape;
    const heads = (c: tf.Tensor4D) => c.reshape([B * H, c.shape[2], K]) as tf.Tensor3D;
    const drop = dropout ?? ((x: tf.Tensor2D) => x);
    const dropResidual = residualDropout ?? ((x: tf.Tensor2D) => x);
    const selfAttention = attend('decoder/attention_1', x, heads(self.keys), heads(self.values), self.mask);
    const out1 = norm(tf.add(x.reshape([B * T, E]), dropResidual(selfAttention.out)), 'decoder/layernorm_1'); // [B*T, E]
    const crossAttention = attend('decoder/attention_2', out1.reshape([B, T, E]), heads(cross.keys), heads(cross.values));
    const out2 = norm(tf.add(out1, dropResidual(crossAttention.out)), 'decoder/layernorm_2');               // [B*T, E]
    const ffn = linear(drop(tf.relu(linear(out2, 'decoder/ffn_1'))), 'decoder/ffn_2');                       // [B*T, E]
    const out3 = drop(norm(tf.add(ffn, out2), 'decoder/layernorm_3'));                                       // [B*T, E]
    return { hidden: out3, crossWeights: crossAttention.weights };
  }

  return {
    config,
    weights: w,
    forward(features, imageIndex, inputs, opts = {}) {
      const [B, T] = inputs.shape;
      const seeds = opts.dropout;
      // Captions of the same image share one encoder pass; gather expands it to the batch.
      const { keys, values } = encode(features, seeds && ((x) => seeds.apply(x, config.encoderDropout ?? 0)));
      const dropout = seeds ? (x: tf.Tensor2D) => seeds.apply(x, config.dropout ?? 0) : undefined;
      const residualDropout = seeds ? (x: tf.Tensor2D) => seeds.apply(x, config.residualDropout ?? 0) : undefined;
      const byCaption = (x: tf.Tensor4D) => tf.gather(x, imageIndex) as tf.Tensor4D;             // [B, H, L, K]
      const embedded = embed(inputs, 0);
      const x = residualDropout ? residualDropout(embedded.reshape([B * T, E])).reshape([B, T, E]) as tf.Tensor3D : embedded;
      const self = { keys: selfProjection(x, 'key'), values: selfProjection(x, 'value'), mask: causalMask(T) };
      const { hidden } = block(x, self, { keys: byCaption(keys), values: byCaption(values) }, dropout, residualDropout);
      return linear(hidden, 'decoder/output').reshape([B, T, V]) as tf.Tensor3D;                    // [B, T, V]
    },
    start(features) {
      const { keys, values } = encode(features);
      const none = tf.zeros([features.shape[0], H, 0, K]);
      return { keys, values, selfKeys: none, selfValues: tf.clone(none) };
    },
    next(state: DecodeState, tokens) {
      const { keys, values, selfKeys: pastKeys, selfValues: pastValues } = state as Record<string, tf.Tensor4D>;
      const [B, , L] = keys.shape;
      const x = embed(tokens.reshape([B, 1]) as tf.Tensor2D, pastKeys.shape[2]);             // [B, 1, E] at position t
      // Append this position's self-attention keys/values to the cache; it attends over all of them.
      const selfKeys = tf.concat([pastKeys, selfProjection(x, 'key')], 2) as tf.Tensor4D;   // [B, H, t+1, K]
      const selfValues = tf.concat([pastValues, selfProjection(x, 'value')], 2) as tf.Tensor4D;
      const { hidden, crossWeights } = block(x, { keys: selfKeys, values: selfValues }, { keys, values });
      const attention = tf.mean(crossWeights.reshape([B, H, L]), 1) as tf.Tensor2D;           // [B, L]
      return { logits: linear(hidden, 'decoder/output'), attention, state: { keys, values, selfKeys, selfValues } };
    },
  };
}
