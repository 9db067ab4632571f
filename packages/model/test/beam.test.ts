/** Beam search: k=1 is greedy; a wider beam finds a likelier caption greedy misses; state reorder is right. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FeatureStore } from '@caption/core';
import { initTf, tf } from '@caption/core/tf';
import { createCaptionModel, type CaptionModel, type DecodeState } from '../src/index.ts';
import { beamDecode } from '../src/beam.ts';
import { greedyDecode } from '../src/index.ts';
import { tempFeatureStore } from './features.ts';
import { END } from '@caption/core';

const [L, D, V] = [3, 4, 8];
const IDS = ['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg'];
let store: FeatureStore;
let remove: () => Promise<void>;

before(async () => {
  await initTf('wasm');
  ({ store, remove } = await tempFeatureStore(IDS, [L, D], (k, i) => Math.sin((k * L * D + i) * 1.7)));
});
after(() => remove());

/**
 * A model whose next-token distribution depends only on the previous token (kept in its state):
 * after <start>: 4 (0.6) or 5 (0.4); after 4: END 0.3, 6 0.35, 7 0.35; after 5: END 0.95; after 6/7: END.
 * Greedy takes 4 then 6 (p = 0.6·0.35·1 = 0.21); the best caption is [5] (p = 0.4·0.95 = 0.38).
 */
const TABLE: Record<number, Record<number, number>> = {
  2: { 4: 0.6, 5: 0.4 }, 4: { [END]: 0.3, 6: 0.35, 7: 0.35 }, 5: { [END]: 0.95, 6: 0.05 }, 6: { [END]: 1 }, 7: { [END]: 1 },
};
const markov: CaptionModel = {
  config: { decoder: 'markov', featureShape: [L, D], vocabSize: V },
  weights: {},
  forward: () => { throw new Error('not used'); },
  start: (features: tf.Tensor3D): DecodeState => ({ rows: tf.range(0, features.shape[0], 1, 'int32') }),
  next(state: DecodeState, tokens: tf.Tensor1D) {
    const prev = Array.from(tokens.dataSync());
    const logits = prev.map((p) => Array.from({ length: V }, (_, v) => Math.log(TABLE[p]?.[v] ?? 1e-9)));
    return { logits: tf.tensor2d(logits, [prev.length, V]), state: { rows: state.rows } };
  },
};

test('beam search finds the likelier caption that greedy misses', () => {
  assert.deepEqual(Array.from(greedyDecode(markov, store, ['a.jpg'], 5, 4)[0].tokens), [4, 6]);
  const beam = beamDecode(markov, store, ['a.jpg'], { beamSize: 3, maxLength: 5, lengthPenalty: 0, batchSize: 4 })[0];
  assert.deepEqual(Array.from(beam.tokens), [5]);
  assert.equal(beam.attention, undefined, 'a model without attention gives none');
});

test('beam search with k=1 equals greedy decoding on a real attention-gru (several images, batches)', () => {
  const model = createCaptionModel({ decoder: 'attention-gru', featureShape: [L, D], vocabSize: V, embedDim: 6, units: 8 }, 3);
  const greedy = greedyDecode(model, store, IDS, 7, 3);
  const beam1 = beamDecode(model, store, IDS, { beamSize: 1, maxLength: 7, lengthPenalty: 0, batchSize: 3 });
  assert.deepEqual(beam1.map((s) => Array.from(s.tokens)), greedy.map((s) => Array.from(s.tokens)));
  // the same words were chosen from the same states, so the attention rows agree too
  beam1.forEach((s, i) => {
    assert.equal(s.attention!.length, s.tokens.length);
    s.attention!.forEach((a, t) => a.forEach((x, l) => assert.ok(Math.abs(x - greedy[i].attention![t][l]) < 1e-5)));
  });
});

test('beam search on a real model: one caption per image, <= maxLength, no <end>, no leaked tensors, batch-independent', () => {
  const model = createCaptionModel({ decoder: 'attention-gru', featureShape: [L, D], vocabSize: V, embedDim: 6, units: 8 }, 5);
  const before = tf.memory().numTensors;
  const decoded = beamDecode(model, store, IDS, { beamSize: 3, maxLength: 6, lengthPenalty: 0.7, batchSize: 4 });
  assert.equal(tf.memory().numTensors, before);
  const a = decoded.map((s) => Array.from(s.tokens));
  const b = beamDecode(model, store, IDS, { beamSize: 3, maxLength: 6, lengthPenalty: 0.7, batchSize: 1 }).map((s) => Array.from(s.tokens));
  assert.deepEqual(a, b);
  assert.equal(a.length, IDS.length);
  for (const s of a) assert.ok(s.length <= 6 && !s.includes(END));
  for (const s of decoded) {
    assert.equal(s.attention!.length, s.tokens.length);
    for (const row of s.attention!) assert.ok(row.length === L && Math.abs(row.reduce((x, y) => x + y, 0) - 1) < 1e-4);
  }
});

test('beam search: each caption carries the attention rows of its own ancestry (beams reordered)', () => {
  // after <start>: 4 (0.6) or 5 (0.4); 4 -> 6 or 7 (0.5 each); 5 -> 6; 6, 7 -> <end>. The winner [5, 6] (0.4)
  // grows from the second beam. Attention is one-hot at (previous token mod L), so rows follow from the tokens.
  const table: Record<number, Record<number, number>> = { 2: { 4: 0.6, 5: 0.4 }, 4: { 6: 0.5, 7: 0.5 }, 5: { 6: 1 }, 6: { [END]: 1 }, 7: { [END]: 1 } };
  const attending: CaptionModel = {
    ...markov,
    next(state, tokens) {
      const prev = Array.from(tokens.dataSync());
      const logits = prev.map((p) => Array.from({ length: V }, (_, v) => Math.log(table[p]?.[v] ?? 1e-9)));
      const attention = tf.tidy(() => tf.oneHot(tf.mod(tokens, L).toInt(), L).toFloat()) as tf.Tensor2D;
      return { logits: tf.tensor2d(logits, [prev.length, V]), attention, state: { rows: state.rows } };
    },
  };
  const onehot = (p: number) => Array.from({ length: L }, (_, l) => (l === p % L ? 1 : 0));
  assert.deepEqual(Array.from(greedyDecode(attending, store, ['a.jpg'], 5, 2)[0].tokens), [4, 6]);
  const [out] = beamDecode(attending, store, ['a.jpg', 'b.jpg'], { beamSize: 3, maxLength: 5, lengthPenalty: 0, batchSize: 2 });
  assert.deepEqual(Array.from(out.tokens), [5, 6]);
  assert.deepEqual(out.attention!.map((a) => Array.from(a)), [2, 5].map(onehot)); // <start> = 2, then 5
});
