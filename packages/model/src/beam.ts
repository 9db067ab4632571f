/**
 * Batched beam search: K beams per image; every step scores all K×V continuations (log-probabilities,
 * on the CPU side: V is small), keeps the best K live ones, and sets a hypothesis aside when it emits
 * <end>. Finished hypotheses are ranked by log p / length^lengthPenalty (0 = plain log p). The decoder
 * state is batch-major, so reordering beams is one gather per state tensor, for every architecture.
 */
import { tf } from '@caption/core/tf';
import type { DecodedCaption, FeatureSource } from './decode.ts';
import type { CaptionModel, DecodeState } from './registry.ts';
import { END, START } from '@caption/core';

export interface BeamOptions {
  beamSize: number;       // K
  maxLength: number;      // max generated tokens
  lengthPenalty: number;  // alpha in score / len^alpha
  batchSize: number;      // images decoded together (B; the model sees B*K rows)
}

// attention[t]: the decoder's attention when tokens[t] was chosen (shared rows: a step's row is sliced once).
interface Hypothesis { tokens: number[]; logp: number; attention: Float32Array[] }

export function beamDecode(model: CaptionModel, features: FeatureSource, imageIds: string[], opts: BeamOptions): DecodedCaption[] {
  const [L, D] = features.shape;
  const K = opts.beamSize;
  const rank = (h: Hypothesis) => h.logp / Math.max(h.tokens.length, 1) ** opts.lengthPenalty;
  const out: DecodedCaption[] = [];
  let withAttention = false;
  for (let i = 0; i < imageIds.length; i += opts.batchSize) {
    const ids = imageIds.slice(i, i + opts.batchSize);
    const B = ids.length;
    const rows = Int32Array.from({ length: B * K }, (_, r) => Math.floor(r / K));
    let state: DecodeState = tf.tidy(() => model.start(tf.gather(tf.tensor3d(features.batch(ids), [B, L, D]), rows) as tf.Tensor3D));
    // live[b][k]: the k-th live beam of image b; only beam 0 exists at the start.
    let live: Hypothesis[][] = ids.map(() => [{ tokens: [], logp: 0, attention: [] }]);
    const finished: Hypothesis[][] = ids.map(() => []);
    for (let t = 0; t < opts.maxLength && live.some((l) => l.length); t++) {
      const tokens = tf.tensor1d(Array.from({ length: B * K }, (_, r) => live[Math.floor(r / K)][r % K]?.tokens.at(-1) ?? START), 'int32');
      const { logp, attention: alpha, ...nextState }: DecodeState = tf.tidy(() => {
        const r = model.next(state, tokens);
        return { ...r.state, logp: tf.logSoftmax(r.logits), ...(r.attention ? { attention: r.attention } : {}) };
      });
      tokens.dispose();
      const lp = logp.dataSync() as Float32Array; // [B*K, V]
      const V = logp.shape[1]!;
      logp.dispose();
      const weights = alpha ? (alpha.dataSync() as Float32Array) : undefined; // [B*K, L]
      alpha?.dispose();
      withAttention ||= weights !== undefined;
      const rowAttention = weights ? Array.from({ length: B * K }, (_, r) => weights.subarray(r * L, (r + 1) * L)) : [];
      const parents: number[] = [];
      live = live.map((beams, b) => {
        const candidates: (Hypothesis & { parent: number })[] = [];
        beams.forEach((h, k) => {
          const row = (b * K + k) * V;
          const attention = weights ? [...h.attention, rowAttention[b * K + k]] : h.attention;
          for (const v of topK(lp, row, V, K + 1)) candidates.push({ tokens: [...h.tokens, v], logp: h.logp + lp[row + v], attention, parent: k });
        });
        candidates.sort((x, y) => y.logp - x.logp);
        const next: (Hypothesis & { parent: number })[] = [];
        for (const c of candidates) {
          if (next.length === K || finished[b].length >= K) break;
          if (c.tokens.at(-1) === END) finished[b].push({ tokens: c.tokens.slice(0, -1), logp: c.logp, attention: c.attention.slice(0, -1) });
          else next.push(c);
        }
        for (let k = 0; k < K; k++) parents.push(b * K + (next[k]?.parent ?? 0));
        return finished[b].length >= K ? [] : next;
      });
      const gather = tf.tensor1d(parents, 'int32');
      const reordered: DecodeState = tf.tidy(() => Object.fromEntries(Object.entries(nextState).map(([k, v]) => [k, tf.gather(v, gather)])));
      gather.dispose();
      for (const k of Object.keys(state)) if (state[k] !== nextState[k]) state[k].dispose();
      for (const v of Object.values(nextState)) v.dispose();
      state = reordered;
    }
    for (const v of Object.values(state)) v.dispose();
    ids.forEach((_, b) => {
      const pool = [...finished[b], ...live[b]];
      const best = pool.reduce((a, h) => (rank(h) > rank(a) ? h : a), pool[0]);
      const tokens = Int32Array.from(best?.tokens ?? []);
      // copy the winning rows out of the step buffers so the rest can be collected
      out.push(withAttention ? { tokens, attention: (best?.attention ?? []).map((a) => Float32Array.from(a)) } : { tokens });
    });
  }
  return out;
}

/** Indices of the n largest values of a[row .. row+V). */
function topK(a: Float32Array, row: number, V: number, n: number): number[] {
  const best: number[] = [];
  for (let v = 0; v < V; v++) {
    const x = a[row + v];
    if (best.length < n || x > a[row + best[best.length - 1]]) {
      let j = best.length < n ? best.length : n - 1;
      best[j] = v;
      while (j > 0 && a[row + best[j - 1]] < x) (best[j] = best[j - 1], (best[--j] = v));
    }
  }
  return best;
}
