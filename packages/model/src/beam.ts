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
/** A one-token extension of live beam `parent` (its index among its image's live beams). */
type Candidate = Hypothesis & { parent: number };
/** One step's scores on the CPU side: log-probabilities [B*K, V] and, when the model attends, its rows [B*K] x [L]. */
interface StepScores { lp: Float32Array; V: number; rowAttention?: Float32Array[] }

export function beamDecode(model: CaptionModel, features: FeatureSource, imageIds: string[], opts: BeamOptions): DecodedCaption[] {
  const out: DecodedCaption[] = [];
  let withAttention = false;
  for (let i = 0; i < imageIds.length; i += opts.batchSize) {
    const ids = imageIds.slice(i, i + opts.batchSize);
    const { finished, live, withAttention: attended } = searchBatch(model, features, ids, opts);
    withAttention ||= attended;
    out.push(...ids.map((_, b) => bestCaption([...finished[b], ...live[b]], opts.lengthPenalty, withAttention)));
  }
  return out;
}

/** Beam search over one batch of B images (B*K model rows): each image's finished and still-live hypotheses. */
function searchBatch(model: CaptionModel, features: FeatureSource, ids: string[], opts: BeamOptions) {
  const K = opts.beamSize;
  let state = startBeams(model, features, ids, K);
  // live[b][k]: the k-th live beam of image b; only beam 0 exists at the start.
  let live: Hypothesis[][] = ids.map(() => [{ tokens: [], logp: 0, attention: [] }]);
  const finished: Hypothesis[][] = ids.map(() => []);
  let withAttention = false;
  for (let t = 0; t < opts.maxLength && live.some((l) => l.length); t++) {
    const { scores, nextState } = scoreStep(model, state, live, K, features.shape[0]);
    withAttention ||= scores.rowAttention !== undefined;
    const parents: number[] = []; // [B*K]: the model row each new beam continues
    live = live.map((beams, b) => {
      const next = selectBeams(expandBeams(beams, b, K, scores), finished[b], K);
      for (let k = 0; k < K; k++) parents.push(b * K + (next[k]?.parent ?? 0));
      return finished[b].length >= K ? [] : next;
    });
    state = reorderState(state, nextState, parents);
  }
  for (const v of Object.values(state)) v.dispose();
  return { finished, live, withAttention };
}

/** The decoder state for B images x K beams: features [B, L, D] repeated to [B*K, L, D] (row r is image ⌊r / K⌋). */
function startBeams(model: CaptionModel, features: FeatureSource, ids: string[], K: number): DecodeState {
  const [L, D] = features.shape;
  const B = ids.length;
  const rows = Int32Array.from({ length: B * K }, (_, r) => Math.floor(r / K));
  return tf.tidy(() => model.start(tf.gather(tf.tensor3d(features.batch(ids), [B, L, D]), rows) as tf.Tensor3D));
}

/** One decoder step on every beam's last token (<start> for none): its scores, copied out, and the next state. */
function scoreStep(model: CaptionModel, state: DecodeState, live: Hypothesis[][], K: number, L: number) {
  const B = live.length;
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
  const rowAttention = weights && Array.from({ length: B * K }, (_, r) => weights.subarray(r * L, (r + 1) * L));
  const scores: StepScores = { lp, V, rowAttention };
  return { scores, nextState };
}

/** Each live beam of image b extended by its K + 1 likeliest tokens, likeliest first (stable: ties keep beam order). */
function expandBeams(beams: Hypothesis[], b: number, K: number, { lp, V, rowAttention }: StepScores): Candidate[] {
  const candidates: Candidate[] = [];
  beams.forEach((h, k) => {
    const row = (b * K + k) * V;
    const attention = rowAttention ? [...h.attention, rowAttention[b * K + k]] : h.attention;
    for (const v of topK(lp, row, V, K + 1)) candidates.push({ tokens: [...h.tokens, v], logp: h.logp + lp[row + v], attention, parent: k });
  });
  candidates.sort((x, y) => y.logp - x.logp);
  return candidates;
}

/** Up to K next live beams from the sorted candidates; one that emits <end> is set aside in `finished` (up to K). */
function selectBeams(candidates: Candidate[], finished: Hypothesis[], K: number): Candidate[] {
  const next: Candidate[] = [];
  for (const c of candidates) {
    if (next.length === K || finished.length >= K) break;
    if (c.tokens.at(-1) === END) finished.push({ tokens: c.tokens.slice(0, -1), logp: c.logp, attention: c.attention.slice(0, -1) });
    else next.push(c);
  }
  return next;
}

/** The next state's rows of the chosen parents [B*K]; disposes the replaced state and the unordered next state. */
function reorderState(state: DecodeState, nextState: DecodeState, parents: number[]): DecodeState {
  const gather = tf.tensor1d(parents, 'int32');
  const reordered: DecodeState = tf.tidy(() => Object.fromEntries(Object.entries(nextState).map(([k, v]) => [k, tf.gather(v, gather)])));
  gather.dispose();
  for (const k of Object.keys(state)) if (state[k] !== nextState[k]) state[k].dispose();
  for (const v of Object.values(nextState)) v.dispose();
  return reordered;
}

/** The hypothesis with the best log p / length^lengthPenalty, its attention rows copied out of the step buffers. */
function bestCaption(pool: Hypothesis[], lengthPenalty: number, withAttention: boolean): DecodedCaption {
  const rank = (h: Hypothesis) => h.logp / Math.max(h.tokens.length, 1) ** lengthPenalty;
  const best = pool.reduce((a, h) => (rank(h) > rank(a) ? h : a), pool[0]);
  const tokens = Int32Array.from(best?.tokens ?? []);
  // copy the winning rows out of the step buffers so the rest can be collected
  return withAttention ? { tokens, attention: (best?.attention ?? []).map((a) => Float32Array.from(a)) } : { tokens };
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
