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
 * example has neither (what they did on Flickr8k: README, "The Flickr8k experiment").
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
import { type Spec, type Weights, dense, denseSpec, embedding, embeddingSpec } from '../blocks.ts';

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

type Dropout = (x: tf.Tensor2D) => tf.Tensor2D;
/** Attention geometry: model width E, H heads of K query/key/value units each. */
interface Dims { E: number; H: number; K: number }
/** Keys and values projected to heads, batch-major as DecodeState wants: [B, H, S, K] each. */
interface KeyValues { keys: tf.Tensor4D; values: tf.Tensor4D }

const EPSILON = 1e-3;   // Keras LayerNormalization default
const MASKED = -1e9;    // added to attention logits of positions a query may not see
const identity: Dropout = (x) => x;

// ---------------------------------------------------------------------------------------------- layer norm

/** Scale gamma [n] and shift beta [n]; initWeights has no 'ones', so createTransformer sets gamma to 1. */
const layerNormSpec = (name: string, n: number): Spec => ({ [`${name}/gamma`]: [[n], 'zeros'], [`${name}/beta`]: [[n], 'zeros'] });

/** x [N, n], normalised over the last axis (biased variance + ε inside the square root, as Keras). */
function layerNorm(w: Weights, name: string, x: tf.Tensor2D): tf.Tensor2D {
  const centred = tf.sub(x, tf.mean(x, -1, true));                                 // [N, n]
  const std = tf.sqrt(tf.add(tf.mean(tf.square(centred), -1, true), EPSILON));     // [N, 1]
  return tf.add(tf.mul(tf.div(centred, std), w[`${name}/gamma`]), w[`${name}/beta`]) as tf.Tensor2D;
}

// ---------------------------------------------------------------------------------------------- multi-head attention

/** Biased query/key/value projections E -> H·K and the output projection H·K -> E (Keras MultiHeadAttention). */
const attentionSpec = (name: string, { E, H, K }: Dims): Spec => ({
  ...denseSpec(`${name}/query`, E, H * K), ...denseSpec(`${name}/key`, E, H * K), ...denseSpec(`${name}/value`, E, H * K),
  ...denseSpec(`${name}/output`, H * K, E),
});

/** One of the q/k/v projections, split into heads: x [N, S, E] -> [N*H, S, K] */
function projectHeads(w: Weights, name: string, { E, H, K }: Dims, x: tf.Tensor3D): tf.Tensor3D {
  const [N, S] = x.shape;
  const y = dense(w, name, x.reshape([N * S, E])).reshape([N, S, H, K]);           // [N, S, H, K]
  return tf.transpose(y, [0, 2, 1, 3]).reshape([N * H, S, K]) as tf.Tensor3D;
}

/**
 * Scaled dot-product attention of queries q [B, Tq, E] over keys/values already projected to heads ([B*H, Tk, K]);
 * mask [Tq, Tk] is added to the logits. Returns the output [B*Tq, E] and the weights [B*H, Tq, Tk].
 */
function multiHeadAttention(w: Weights, name: string, dims: Dims, q: tf.Tensor3D, keys: tf.Tensor3D, values: tf.Tensor3D, mask?: tf.Tensor2D) {
  const { H, K } = dims;
  const [B, Tq] = q.shape;
  let logits = tf.mul(tf.matMul(projectHeads(w, `${name}/query`, dims, q), keys, false, true), 1 / Math.sqrt(K)); // [B*H, Tq, Tk]
  if (mask) logits = tf.add(logits, mask);
  const weights = tf.softmax(logits) as tf.Tensor3D;                                // last axis
  const heads = tf.matMul(weights, values).reshape([B, H, Tq, K]);                 // [B, H, Tq, K]
  const merged = tf.transpose(heads, [0, 2, 1, 3]).reshape([B * Tq, H * K]) as tf.Tensor2D;
  return { out: dense(w, `${name}/output`, merged), weights };                      // [B*Tq, E]
}

/** [T, T] additive mask: position t sees positions <= t. */
function causalMask(T: number): tf.Tensor2D {
  const m = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = MASKED;
  return tf.tensor2d(m, [T, T]);
}

// ---------------------------------------------------------------------------------------------- feed-forward

/** `${name}_1` E -> U (relu) and `${name}_2` U -> E. */
const feedForwardSpec = (name: string, E: number, U: number): Spec => ({ ...denseSpec(`${name}_1`, E, U), ...denseSpec(`${name}_2`, U, E) });

/** dense relu -> dropout -> dense: x [N, E] -> [N, E] */
const feedForward = (w: Weights, name: string, x: tf.Tensor2D, drop: Dropout) =>
  dense(w, `${name}_2`, drop(tf.relu(dense(w, `${name}_1`, x))));

// ---------------------------------------------------------------------------------------------- positional embedding

/** Token embedding·√E + position embedding of tokens [B, T] at positions from..from+T-1 -> [B, T, E] */
function positionalEmbedding(w: Weights, E: number, tokens: tf.Tensor2D, from: number): tf.Tensor3D {
  const [B, T] = tokens.shape;
  const maxLength = w['decoder/position_embedding'].shape[0];
  if (from + T > maxLength) throw new PipelineError('config', `transformer: input of ${from + T} tokens exceeds maxLength ${maxLength}`);
  const embedded = tf.mul(embedding(w, 'decoder/token_embedding', tokens.reshape([B * T])), Math.sqrt(E)).reshape([B, T, E]);
  return tf.add(embedded, tf.slice(w['decoder/position_embedding'], [from, 0], [T, E])) as tf.Tensor3D;
}

// ---------------------------------------------------------------------------------------------- encoder block

/** features [N, L, D] -> layer norm -> relu(dense) -> dropout'' -> self-attention + residual -> layer norm -> [N, L, E] */
function encoderBlock(w: Weights, dims: Dims, features: tf.Tensor3D, drop?: Dropout): tf.Tensor3D {
  const { E } = dims;
  const [N, L, D] = features.shape;
  const projected = tf.relu(dense(w, 'encoder/dense', layerNorm(w, 'encoder/layernorm_1', features.reshape([N * L, D])))); // [N*L, E]
  const x = drop ? drop(projected) : projected;
  const x3 = x.reshape([N, L, E]) as tf.Tensor3D;
  const keys = projectHeads(w, 'encoder/attention/key', dims, x3);                  // [N*H, L, K]
  const self = multiHeadAttention(w, 'encoder/attention', dims, x3, keys, projectHeads(w, 'encoder/attention/value', dims, x3));
  return layerNorm(w, 'encoder/layernorm_2', tf.add(x, self.out)).reshape([N, L, E]) as tf.Tensor3D; // [N, L, E]
}

/** Encoder output [N, L, E] -> the decoder's cross-attention keys and values per image, [N, H, L, K] each. */
function crossKeyValues(w: Weights, dims: Dims, enc: tf.Tensor3D): KeyValues {
  const [N, L] = enc.shape;
  const byImage = (x: tf.Tensor3D) => x.reshape([N, dims.H, L, dims.K]) as tf.Tensor4D;
  return { keys: byImage(projectHeads(w, 'decoder/attention_2/key', dims, enc)), values: byImage(projectHeads(w, 'decoder/attention_2/value', dims, enc)) };
}

// ---------------------------------------------------------------------------------------------- decoder block

/** [B, S, E] -> these positions' self-attention keys or values, [B, H, S, K] (the decoding cache). */
const selfKeyValue = (w: Weights, dims: Dims, x: tf.Tensor3D, name: 'key' | 'value') =>
  projectHeads(w, `decoder/attention_1/${name}`, dims, x).reshape([x.shape[0], dims.H, x.shape[1], dims.K]) as tf.Tensor4D;

/**
 * The decoder block over embedded positions x [B, T, E], given the self-attention keys/values of every position
 * they may see ([B, H, S, K], S >= T) and the cross keys/values [B, H, L, K]: returns the final hidden states
 * [B*T, E] (before the output dense) and the cross-attention weights [B*H, T, L].
 */
function decoderBlock(w: Weights, dims: Dims, x: tf.Tensor3D, self: KeyValues & { mask?: tf.Tensor2D }, cross: KeyValues, dropout?: Dropout, residualDropout?: Dropout) {
  const { E, H, K } = dims;
  const [B, T] = x.shape;
  const heads = (c: tf.Tensor4D) => c.reshape([B * H, c.shape[2], K]) as tf.Tensor3D; // [B, H, S, K] -> [B*H, S, K]
  const drop = dropout ?? identity;
  const dropResidual = residualDropout ?? identity;
  const selfAttention = multiHeadAttention(w, 'decoder/attention_1', dims, x, heads(self.keys), heads(self.values), self.mask);
  const out1 = layerNorm(w, 'decoder/layernorm_1', tf.add(x.reshape([B * T, E]), dropResidual(selfAttention.out))); // [B*T, E]
  const crossAttention = multiHeadAttention(w, 'decoder/attention_2', dims, out1.reshape([B, T, E]), heads(cross.keys), heads(cross.values));
  const out2 = layerNorm(w, 'decoder/layernorm_2', tf.add(out1, dropResidual(crossAttention.out)));             // [B*T, E]
  const ffn = feedForward(w, 'decoder/ffn', out2, drop);                                                        // [B*T, E]
  const out3 = drop(layerNorm(w, 'decoder/layernorm_3', tf.add(ffn, out2)));                                    // [B*T, E]
  return { hidden: out3, crossWeights: crossAttention.weights };
}

// ---------------------------------------------------------------------------------------------- the model

/** Every weight, in initWeights draw order. */
function transformerSpec(config: TransformerConfig, dims: Dims): Spec {
  const [, D] = config.featureShape;
  const { vocabSize: V, embedDim: E, units: U } = config;
  return {
    ...layerNormSpec('encoder/layernorm_1', D), ...denseSpec('encoder/dense', D, E),
    ...attentionSpec('encoder/attention', dims), ...layerNormSpec('encoder/layernorm_2', E),
    ...embeddingSpec('decoder/token_embedding', V, E), ...embeddingSpec('decoder/position_embedding', config.maxLength ?? 64, E),
    ...attentionSpec('decoder/attention_1', dims), ...layerNormSpec('decoder/layernorm_1', E),
    ...attentionSpec('decoder/attention_2', dims), ...layerNormSpec('decoder/layernorm_2', E),
    ...feedForwardSpec('decoder/ffn', E, U), ...layerNormSpec('decoder/layernorm_3', E),
    ...denseSpec('decoder/output', E, V),
  };
}

export function createTransformer(config: TransformerConfig, seed: number): CaptionModel {
  const { vocabSize: V, embedDim: E } = config;
  const dims: Dims = { E, H: config.heads ?? 2, K: config.keyDim ?? E };
  const w = initWeights(seed, transformerSpec(config, dims));
  // initWeights has no 'ones' initialiser: layer-norm scales start at 1.
  tf.tidy(() => { for (const [k, v] of Object.entries(w)) if (k.endsWith('/gamma')) v.assign(tf.onesLike(v)); });

  /** features [N, L, D] -> cross-attention keys/values [N, H, L, K] each. */
  const encode = (features: tf.Tensor3D, drop?: Dropout) => crossKeyValues(w, dims, encoderBlock(w, dims, features, drop));

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
      const embedded = positionalEmbedding(w, E, inputs, 0);                                     // [B, T, E]
      const x = residualDropout ? residualDropout(embedded.reshape([B * T, E])).reshape([B, T, E]) as tf.Tensor3D : embedded;
      const self = { keys: selfKeyValue(w, dims, x, 'key'), values: selfKeyValue(w, dims, x, 'value'), mask: causalMask(T) };
      const { hidden } = decoderBlock(w, dims, x, self, { keys: byCaption(keys), values: byCaption(values) }, dropout, residualDropout);
      return dense(w, 'decoder/output', hidden).reshape([B, T, V]) as tf.Tensor3D;               // [B, T, V]
    },
    start(features) {
      const { keys, values } = encode(features);                                                 // [B, H, L, K] each
      const none = tf.zeros([features.shape[0], dims.H, 0, dims.K]);                             // empty cache [B, H, 0, K]
      return { keys, values, selfKeys: none, selfValues: tf.clone(none) };
    },
    next(state: DecodeState, tokens) {
      const { keys, values, selfKeys: pastKeys, selfValues: pastValues } = state as Record<string, tf.Tensor4D>;
      const [B, H, L] = keys.shape;
      const x = positionalEmbedding(w, E, tokens.reshape([B, 1]) as tf.Tensor2D, pastKeys.shape[2]); // [B, 1, E] at position t
      // Append this position's self-attention keys/values to the cache; it attends over all of them.
      const selfKeys = tf.concat([pastKeys, selfKeyValue(w, dims, x, 'key')], 2) as tf.Tensor4D;     // [B, H, t+1, K]
      const selfValues = tf.concat([pastValues, selfKeyValue(w, dims, x, 'value')], 2) as tf.Tensor4D;
      const { hidden, crossWeights } = decoderBlock(w, dims, x, { keys: selfKeys, values: selfValues }, { keys, values });
      const attention = tf.mean(crossWeights.reshape([B, H, L]), 1) as tf.Tensor2D;                   // [B, L]
      return { logits: dense(w, 'decoder/output', hidden), attention, state: { keys, values, selfKeys, selfValues } };
    },
  };
}
