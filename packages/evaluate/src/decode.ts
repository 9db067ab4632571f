/** Batched greedy decoding: argmax token per step until every caption has emitted <end> or maxLength. */
import type { FeatureStore } from '@caption/core';
import { tf } from '@caption/core/tf';
import type { CaptionModel, DecodeState } from '@caption/train';
import { END, START } from '@caption/tokenize';

/** Features by image id: a FeatureStore, or features computed in memory ({ shape: [L, D], batch }). */
export type FeatureSource = Pick<FeatureStore, 'shape' | 'batch'>;

/**
 * One decoded caption (no <start>/<end>). attention[t] is the attention over the L feature positions when
 * tokens[t] was emitted; present only for decoders whose `next()` returns attention.
 */
export interface DecodedCaption { tokens: Int32Array; attention?: Float32Array[] }

export function greedyDecode(model: CaptionModel, features: FeatureSource, imageIds: string[], maxLength: number, batchSize: number): DecodedCaption[] {
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
      const { next, attention: alpha, ...nextState }: DecodeState = tf.tidy(() => {
        const r = model.next(state, tokens);
        return { ...r.state, next: tf.argMax(r.logits, 1).toInt(), ...(r.attention ? { attention: r.attention } : {}) };
      });
      // Tensors the step carried over (encoder output) stay; the replaced ones (old hidden state) go.
      for (const k of Object.keys(state)) if (state[k] !== nextState[k]) state[k].dispose();
      tokens.dispose();
      tokens = next as tf.Tensor1D;
      state = nextState;
      const chosen = tokens.dataSync();
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
