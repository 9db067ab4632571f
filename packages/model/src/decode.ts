/**
 * Batched decoding, one token per step until every caption has emitted <end> or maxLength: greedy (argmax; the
 * evaluate stage, and the dev score of self-critical training) or sampled from the softmax (self-critical training).
 */
import type { FeatureStore, Rng } from '@caption/core';
import { tf } from '@caption/core/tf';
import type { CaptionModel, DecodeState } from './registry.ts';
import { END, START } from '@caption/core';

/** Features by image id: a FeatureStore, or features computed in memory ({ shape: [L, D], batch }). */
export type FeatureSource = Pick<FeatureStore, 'shape' | 'batch'>;

/**
 * One decoded caption (no <start>/<end>). attention[t] is the attention over the L feature positions when
 * tokens[t] was emitted; present only for decoders whose `next()` returns attention.
 */
export interface DecodedCaption { tokens: Int32Array; attention?: Float32Array[] }

export function greedyDecode(model: CaptionModel, features: FeatureSource, imageIds: string[], maxLength: number, batchSize: number): DecodedCaption[] {
  return decode(model, features, imageIds, maxLength, batchSize, (logits) => tf.tidy(() => tf.argMax(logits, 1).dataSync() as Int32Array));
}

/**
 * One caption sampled from the model's distribution (temperature 1) per entry of `imageIds` (repeat an id for
 * several samples of one image); the draws come from `rng`, so a seed gives the same captions.
 */
export function sampleDecode(model: CaptionModel, features: FeatureSource, imageIds: string[], maxLength: number, batchSize: number, rng: Rng): DecodedCaption[] {
  return decode(model, features, imageIds, maxLength, batchSize, (logits) => {
    const [B, V] = logits.shape;
    const probs = tf.tidy(() => tf.softmax(logits).dataSync() as Float32Array);
    const chosen = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      const u = rng.next();
      let cumulative = 0;
      let v = 0;
      for (; v < V - 1; v++) if ((cumulative += probs[b * V + v]) > u) break; // V - 1 takes what rounding leaves
      chosen[b] = v;
    }
    return chosen;
  }, false);
}

function decode(
  model: CaptionModel, features: FeatureSource, imageIds: string[], maxLength: number, batchSize: number,
  choose: (logits: tf.Tensor2D) => Int32Array, keepAttention = true,
): DecodedCaption[] {
  const [L, D] = features.shape;
  const out: DecodedCaption[] = [];
  for (let i = 0; i < imageIds.length; i += batchSize) {
    const ids = imageIds.slice(i, i + batchSize);
    const B = ids.length;
    const seqs = Array.from({ length: B }, () => [] as number[]);
    const attention = Array.from({ length: B }, () => [] as Float32Array[]);
    let withAttention = false;
    const done = new Uint8Array(B);
    const feats = tf.tensor3d(features.batch(ids), [B, L, D]);
    let state: DecodeState = tf.tidy(() => model.start(feats));
    let tokens = tf.fill([B], START, 'int32') as tf.Tensor1D;
    for (let t = 0; t < maxLength && done.some((d) => !d); t++) {
      const { logits, attention: alpha, ...nextState }: DecodeState = tf.tidy(() => {
        const r = model.next(state, tokens);
        return { ...r.state, logits: r.logits, ...(r.attention && keepAttention ? { attention: r.attention } : {}) };
      });
      // Tensors the step carried over (encoder output) stay; the replaced ones (old hidden state) go.
      for (const k of Object.keys(state)) if (state[k] !== nextState[k]) state[k].dispose();
      tokens.dispose();
      const chosen = choose(logits as tf.Tensor2D);
      logits.dispose();
      tokens = tf.tensor1d(chosen, 'int32');
      state = nextState;
      const weights = alpha ? (alpha.dataSync() as Float32Array) : undefined;
      alpha?.dispose();
      withAttention ||= weights !== undefined;
      for (let b = 0; b < B; b++) {
        if (done[b]) continue;
        if (chosen[b] === END) done[b] = 1;
        else {
          seqs[b].push(chosen[b]);
          if (weights) attention[b].push(weights.slice(b * L, (b + 1) * L));
        }
      }
    }
    tokens.dispose();
    for (const v of Object.values(state)) v.dispose();
    feats.dispose();
    out.push(...seqs.map((s, b) => ({ tokens: Int32Array.from(s), ...(withAttention ? { attention: attention[b] } : {}) })));
  }
  return out;
}
