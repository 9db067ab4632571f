/**
 * Self-critical training: the weighted loss, sampling from the model's distribution, rewards and advantages,
 * and the loop's self-critical epochs (reward goes up; greedy dev CIDEr-D picks the kept weights; reproducible).
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FeatureStore, Rng, decodeFeatureShard, encodeFeatureShard, END, START } from '@caption/core';
import { initTf, tf } from '@caption/core/tf';
import { train } from '../src/loop.ts';
import { createOptimizer } from '../src/optimizer.ts';
import type { EpochLog, TrainData } from '../src/state.ts';
import type { TrainParams } from '../src/params.ts';
import { greedyCider, referenceTokens, sampleCaptions, scoreSamples } from '../src/scst.ts';
import { sampleParallel } from '../src/data-parallel.ts';
import { ReplicaPool } from '../src/replicas.ts';
import { splitGroup } from '../src/batches.ts';
import { deriveSeed } from '@caption/core';
import type { CaptionModelConfig } from '@caption/model';
import type { ImageCaptions } from '../src/batches.ts';
import { CiderD } from '@caption/metrics';
import { createCaptionModel, sampleDecode, maskedCrossEntropy } from '@caption/model';

const [L, D, V] = [4, 6, 12];
let store: FeatureStore;

before(async () => {
  await initTf('wasm');
  const ids = ['a.jpg', 'b.jpg', 'c.jpg'];
  const rng = new Rng(5);
  store = FeatureStore.fromShards([decodeFeatureShard(encodeFeatureShard({
    imageIds: ids, sha256s: ids, shape: [L, D], dtype: 'float32', data: Float32Array.from({ length: ids.length * L * D }, () => rng.next()), metadata: {},
  }))]);
});

const cap = (...ids: number[]) => Int32Array.from([START, ...ids, END]);
// three images, each with its own words (4-5, 6-7, 8-9) and shared ones (10, 11)
const TRAIN: ImageCaptions[] = [
  { imageId: 'a.jpg', captions: [cap(10, 4, 5), cap(4, 5, 11), cap(10, 4, 5, 11)] },
  { imageId: 'b.jpg', captions: [cap(10, 6, 7), cap(6, 7, 11), cap(10, 6, 7, 11)] },
  { imageId: 'c.jpg', captions: [cap(10, 8, 9), cap(8, 9, 11), cap(10, 8, 9, 11)] },
];
const model = (seed: number) => createCaptionModel({ decoder: 'transformer', featureShape: [L, D], vocabSize: V, embedDim: 8, units: 16, heads: 2, maxLength: 8 }, seed);
const PARAMS: TrainParams = {
  decoder: 'transformer', epochs: 2, batchSize: 6, bucketBatches: 0, embedDim: 8, units: 16, heads: 2, layers: 1, dropout: 0, residualDropout: 0, encoderDropout: 0, encoderHeadLrScale: 1, attentionReg: 0,
  optimizer: 'adam', learningRate: 0.01, lrSchedule: 'constant', lrDecay: 0.8, clipNorm: 5, labelSmoothing: 0, ema: 0, patience: 0,
  scstEpochs: 15, scstSamples: 4, scstLearningRate: 0.01, workers: 1, resume: 'never', backend: 'wasm',
};

test('maskedCrossEntropy with per-caption weights = Σ w_b·NLL_bt over non-pad tokens / #tokens', () => {
  const logits = [[[1, 2, 0.5], [0.3, -1, 2]], [[0, 0, 1], [2, 1, 0]]];
  const targets = [[1, 2], [2, 0]]; // the second caption has one real token
  const w = [0.7, -1.3];
  const nll = (row: number[], t: number) => Math.log(row.reduce((a, x) => a + Math.exp(x), 0)) - row[t];
  const expected = (w[0] * (nll(logits[0][0], 1) + nll(logits[0][1], 2)) + w[1] * nll(logits[1][0], 2)) / 3;
  const got = tf.tidy(() => maskedCrossEntropy(tf.tensor3d(logits), tf.tensor2d(targets, undefined, 'int32'), 0, tf.tensor1d(w)).dataSync()[0]);
  assert.ok(Math.abs(got - expected) < 1e-5, `${got} vs ${expected}`);
});

test('sampleDecode: first tokens follow the softmax of the first step; a seed gives the same captions', () => {
  const m = model(3);
  const probs = tf.tidy(() => {
    const state = m.start(tf.tensor3d(store.batch(['a.jpg']), [1, L, D]));
    return Array.from(tf.softmax(m.next(state, tf.tensor1d([START], 'int32')).logits).dataSync());
  });
  const n = 4000;
  const first = sampleDecode(m, store, Array(n).fill('a.jpg'), 1, 500, new Rng(1));
  const counts = new Array<number>(V).fill(0);
  for (const d of first) counts[d.tokens.length ? d.tokens[0] : END]++;
  // 4,000 draws: a frequency's standard error is at most 0.008
  for (let v = 0; v < V; v++) assert.ok(Math.abs(counts[v] / n - probs[v]) < 0.03, `token ${v}: ${counts[v] / n} vs p ${probs[v]}`);

  const ids = ['a.jpg', 'b.jpg', 'a.jpg', 'c.jpg'];
  const again = (seed: number) => sampleDecode(m, store, ids, 6, 4, new Rng(seed)).map((d) => Array.from(d.tokens));
  assert.deepEqual(again(7), again(7));
  assert.notDeepEqual(again(7), again(8));
  // captions stop at maxLength tokens and never contain <end> (it ends them)
  assert.ok(again(7).every((t) => t.length <= 6 && t.every((id) => id !== END)));
});

test('scoreSamples: rewards are CIDEr-D against the image\'s references; advantages = reward − mean of the other samples', () => {
  const m = model(4);
  const references = referenceTokens(TRAIN);
  assert.deepEqual(references.get('b.jpg'), [[10, 6, 7], [6, 7, 11], [10, 6, 7, 11]]);
  const scorer = new CiderD(references.values());
  const k = 4;
  const opts = { samples: k, maxLength: 5 };
  const sampled = scoreSamples(TRAIN, sampleCaptions(m, store, TRAIN.map((img) => img.imageId), opts, new Rng(2)), references, scorer, opts);
  const rewards: number[] = [];
  for (const img of sampled.images) {
    assert.equal(img.captions.length, k);
    const r = img.captions.map((c) => {
      assert.equal(c[0], START);
      const words = Array.from(c.slice(1)).filter((id) => id !== END);
      // <end> closes every sample that stopped before maxLength, and only those
      assert.equal(c.at(-1) === END, words.length < 5);
      return scorer.score(words, references.get(img.imageId)!);
    });
    rewards.push(...r);
    const sum = r.reduce((a, x) => a + x, 0);
    img.weights!.forEach((w, s) => assert.ok(Math.abs(w - (r[s] - (sum - r[s]) / (k - 1))) < 1e-12));
    assert.ok(Math.abs(img.weights!.reduce((a, x) => a + x, 0)) < 1e-9, 'an image\'s advantages sum to 0');
  }
  assert.ok(Math.abs(sampled.meanReward - rewards.reduce((a, x) => a + x, 0) / rewards.length) < 1e-12);
  // a perfect caption scores higher than a wrong one
  assert.ok(scorer.score([10, 6, 7, 11], references.get('b.jpg')!) > scorer.score([10, 4, 5, 11], references.get('b.jpg')!));
});

test('train with scstEpochs: reward rises; the kept weights are the best greedy dev CIDEr-D; reproducible for a seed', async () => {
  const data: TrainData = { train: TRAIN, dev: TRAIN, features: store };
  const run = async () => {
    const m = model(6);
    const logs: string[] = [];
    const state = await train(m, createOptimizer(PARAMS), data, PARAMS, 6, { log: (s) => logs.push(s) });
    return { m, state, logs };
  };
  const { m, state, logs } = await run();
  const scst = state.history.filter((h): h is Required<EpochLog> => h.reward !== undefined);
  assert.equal(state.history.length, PARAMS.epochs + PARAMS.scstEpochs);
  assert.deepEqual(scst.map((h) => h.epoch), Array.from({ length: PARAMS.scstEpochs }, (_, i) => PARAMS.epochs + 1 + i));
  assert.ok(state.history.slice(0, PARAMS.epochs).every((h) => h.reward === undefined && h.dev_cider === undefined));
  assert.ok(scst.every((h) => h.lr === PARAMS.scstLearningRate && Number.isFinite(h.dev_cider)));
  assert.equal(state.selfCritical?.start, PARAMS.epochs + 1);
  assert.match(logs.join('\n'), /self-critical training from epoch 2's weights: dev CIDEr-D/);

  const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
  const early = mean(scst.slice(0, 3).map((h) => h.reward));
  const late = mean(scst.slice(-3).map((h) => h.reward));
  assert.ok(late > early + 0.5, `mean sampled CIDEr-D ${early.toFixed(3)} -> ${late.toFixed(3)}: self-critical steps should raise it`);

  // kept: the epoch with the best dev CIDEr-D (or the cross-entropy weights when none beat them)
  const best = Math.max(state.selfCritical!.devCider, ...scst.map((h) => h.dev_cider));
  assert.ok(best > state.selfCritical!.devCider, 'self-critical epochs should beat the cross-entropy weights here');
  assert.equal(state.bestEpoch, scst.find((h) => h.dev_cider === best)!.epoch);
  // (decoded up to the longest train caption: 4 words + <end>)
  assert.ok(Math.abs(greedyCider(m, store, TRAIN, 5, 6) - best) < 1e-9, `${greedyCider(m, store, TRAIN, 5, 6)} vs ${best}`);

  const again = await run();
  assert.deepEqual(again.state.history, state.history);
});

test('sampling on two threads: each part is what this thread samples from that part\'s stream, in image order', async () => {
  const m = model(8);
  const pool = await ReplicaPool.start(1, { config: m.config as CaptionModelConfig, backend: 'wasm' });
  try {
    const opts = { samples: 3, maxLength: 6 };
    const data: TrainData = { train: TRAIN, dev: [], features: store };
    const got = await sampleParallel(m, data, TRAIN, opts, 77, pool);
    const parts = splitGroup(TRAIN, 2).map((part) => part.map((img) => img.imageId));
    assert.equal(parts.length, 2);
    const want = parts.flatMap((ids, i) => sampleCaptions(m, store, ids, opts, new Rng(deriveSeed(77, `part-${i}`))));
    assert.equal(got.length, TRAIN.length * 3);
    assert.deepEqual(got.map((t) => Array.from(t)), want.map((t) => Array.from(t)));
    assert.ok(new Set(got.map((t) => t.join())).size > 1, 'samples differ');
    assert.deepEqual((await sampleParallel(m, data, TRAIN, opts, 77, pool)).map((t) => Array.from(t)), want.map((t) => Array.from(t)));
  } finally {
    await pool.close();
  }
});
