/** Beam search: k=1 is greedy; a wider beam finds a likelier caption greedy misses; state reorder is right. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FeatureStore, encodeFeatureShard } from '@caption/core';
import { initTf, tf } from '@caption/core/tf';
import { END } from '@caption/tokenize';
import { createCaptionModel, type CaptionModel, type DecodeState } from '@caption/train';
import { beamDecode } from '../src/beam.ts';
import { greedyDecode } from '../src/decode.ts';

const [L, D, V] = [3, 4, 8];
const IDS = ['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg'];
let tmp: string;
let store: FeatureStore;

before(async () => {
  await initTf('wasm');
  tmp = await mkdtemp(path.join(os.tmpdir(), 'eval-beam-'));
  await mkdir(path.join(tmp, 'shards'));
  await writeFile(path.join(tmp, 'shards', 'shard-00000.arrow'), encodeFeatureShard({
    imageIds: IDS, sha256s: IDS.map(() => '0'.repeat(64)), shape: [L, D], dtype: 'float32',
    data: Float32Array.from({ length: IDS.length * L * D }, (_, i) => Math.sin(i * 1.7)), metadata: {},
  }));
  store = await FeatureStore.load(tmp);
});
after(() => rm(tmp, { recursive: true, force: true }));

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
  assert.deepEqual(Array.from(greedyDecode(markov, store, ['a.jpg'], 5, 4)[0]), [4, 6]);
  assert.deepEqual(Array.from(beamDecode(markov, store, ['a.jpg'], { beamSize: 3, maxLength: 5, lengthPenalty: 0, batchSize: 4 })[0]), [5]);
});

test('beam search with k=1 equals greedy decoding on a real attention-gru (several images, batches)', () => {
  const model = createCaptionModel({ decoder: 'attention-gru', featureShape: [L, D], vocabSize: V, embedDim: 6, units: 8 }, 3);
  const greedy = greedyDecode(model, store, IDS, 7, 3).map((s) => Array.from(s));
  const beam1 = beamDecode(model, store, IDS, { beamSize: 1, maxLength: 7, lengthPenalty: 0, batchSize: 3 }).map((s) => Array.from(s));
  assert.deepEqual(beam1, greedy);
});

test('beam search on a real model: one caption per image, <= maxLength, no <end>, no leaked tensors, batch-independent', () => {
  const model = createCaptionModel({ decoder: 'attention-gru', featureShape: [L, D], vocabSize: V, embedDim: 6, units: 8 }, 5);
  const before = tf.memory().numTensors;
  const a = beamDecode(model, store, IDS, { beamSize: 3, maxLength: 6, lengthPenalty: 0.7, batchSize: 4 }).map((s) => Array.from(s));
  assert.equal(tf.memory().numTensors, before);
  const b = beamDecode(model, store, IDS, { beamSize: 3, maxLength: 6, lengthPenalty: 0.7, batchSize: 1 }).map((s) => Array.from(s));
  assert.deepEqual(a, b);
  assert.equal(a.length, IDS.length);
  for (const s of a) assert.ok(s.length <= 6 && !s.includes(END));
});
