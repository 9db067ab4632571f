import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { FeatureStore, decodeFeatureShard, encodeFeatureShard } from '@caption/core';
import { initTf, tf } from '@caption/core/tf';
import type { ImageCaptions } from '../src/batches.ts';
import { estimateLoss } from '../src/dev-loss.ts';
import { train } from '../src/loop.ts';
import { createOptimizer, getLr } from '../src/optimizer.ts';
import type { TrainData } from '../src/state.ts';
import { getBatchTensors } from '../src/step.ts';
import { makeBatches } from '../src/batches.ts';
import { WeightAverage } from '../src/weight-average.ts';
import type { TrainParams } from '../src/params.ts';
import { createCaptionModel } from '@caption/model';

const L = 4;
const D = 6;
const V = 9;
let store: FeatureStore;

/** A real FeatureStore: one Arrow shard encoded and decoded as the stages do. */
function makeStore(rows: Record<string, number[]>): FeatureStore {
  const ids = Object.keys(rows);
  return FeatureStore.fromShards([decodeFeatureShard(encodeFeatureShard({
    imageIds: ids, sha256s: ids.map((id) => `sha-${id}`), shape: [L, D], dtype: 'float32',
    data: Float32Array.from(ids.flatMap((id) => rows[id])), metadata: { backbone: 'test' },
  }))]);
}

before(async () => {
  await initTf('wasm');
  store = makeStore({
    'img-a.jpg': Array.from({ length: L * D }, (_, i) => (i % 3 === 0 ? 1 : 0)),
    'img-b.jpg': Array.from({ length: L * D }, (_, i) => (i % 3 === 1 ? 1 : 0.2)),
  });
});

// <start>=2 <end>=3; image a is about words 4/5, image b about 6/7/8
const cap = (...ids: number[]) => Int32Array.from([2, ...ids, 3]);
const TRAIN: ImageCaptions[] = [
  { imageId: 'img-a.jpg', captions: [cap(4, 5, 4), cap(4, 5)] },
  { imageId: 'img-b.jpg', captions: [cap(6, 7, 8, 6), cap(6, 8)] },
];
const PARAMS: TrainParams = {
  decoder: 'attention-gru', epochs: 30, batchSize: 2, bucketBatches: 0, embedDim: 8, units: 16, heads: 2, layers: 1, dropout: 0, residualDropout: 0, encoderDropout: 0, encoderHeadLrScale: 1, attentionReg: 0,
  optimizer: 'adam', learningRate: 0.02, lrSchedule: 'constant', lrDecay: 0.8, clipNorm: 5, labelSmoothing: 0, ema: 0, patience: 0, scstEpochs: 0, scstSamples: 5, scstLearningRate: 5e-5, workers: 1, resume: 'never', backend: 'wasm',
};
const fit = async (m: ReturnType<typeof model>, data: TrainData, params: TrainParams, seed: number) =>
  (await train(m, createOptimizer(params), data, params, seed, { log: () => undefined })).history;
const model = (seed: number) => createCaptionModel({ decoder: 'attention-gru', featureShape: [L, D], vocabSize: V, embedDim: 8, units: 16 }, seed);

test('getBatchTensors: features of the batch images in order, ids/targets as int32 [B, T]', () => {
  const [batch] = makeBatches([TRAIN[1], TRAIN[0]], 100);
  tf.tidy(() => {
    const t = getBatchTensors(batch, store);
    assert.deepEqual(t.feats.shape, [2, L, D]);
    assert.deepEqual(Array.from(t.feats.dataSync()), Array.from(store.batch(['img-b.jpg', 'img-a.jpg'])));
    assert.deepEqual([t.inputs.shape, t.inputs.dtype, t.targets.dtype, t.imageIndex.dtype], [[4, 5], 'int32', 'int32', 'int32']);
    assert.deepEqual(Array.from(t.imageIndex.dataSync()), [0, 0, 1, 1]);
  });
});

test('train: overfits 2 images x 2 captions; best dev epoch restored; deterministic for a seed', async () => {
  const data: TrainData = { train: TRAIN, dev: TRAIN, features: store };
  const m = model(11);
  const before = estimateLoss(m, TRAIN, data, 4);
  assert.ok(Math.abs(before - Math.log(V)) < 0.5, `initial loss ${before} should be near ln V = ${Math.log(V)}`);

  const history = await fit(m, data, PARAMS, 11);
  assert.equal(history.length, 30);
  assert.deepEqual(history.map((h) => h.epoch), Array.from({ length: 30 }, (_, i) => i + 1));
  // 2 images of 2 captions, batch size 2 -> one image per batch, 2 steps an epoch
  assert.deepEqual(history.map((h) => h.step), Array.from({ length: 30 }, (_, i) => 2 * (i + 1)));
  assert.ok(history.every((h) => h.lr === PARAMS.learningRate && Number.isFinite(h.loss) && Number.isFinite(h.dev_loss)));
  const first = history[0].loss;
  const last = history.at(-1)!.loss;
  assert.ok(last < first * 0.25, `loss ${first.toFixed(3)} -> ${last.toFixed(3)}: expected a much lower loss`);
  assert.ok(Math.min(...history.map((h) => h.dev_loss)) < 0.5);

  // the weights left in the model are those of the best dev epoch
  const bestDev = Math.min(...history.map((h) => h.dev_loss));
  assert.ok(Math.abs(estimateLoss(m, TRAIN, data, 4) - bestDev) < 1e-4);

  // same seed, same data -> the same history
  const again = await fit(model(11), data, { ...PARAMS, epochs: 3 }, 11);
  assert.deepEqual(again.map((h) => h.loss), history.slice(0, 3).map((h) => h.loss));
});

test('estimateLoss: token-weighted mean over batches, independent of batch size', () => {
  const data: TrainData = { train: TRAIN, dev: [], features: store };
  const m = model(5);
  const whole = estimateLoss(m, TRAIN, data, 100);
  const perImage = estimateLoss(m, TRAIN, data, 1);
  assert.ok(Math.abs(whole - perImage) < 1e-5, `${whole} vs ${perImage}`);
  assert.equal(estimateLoss(m, [], data, 4), 0);
});

test('getLr: constant, step (x lrDecay per epoch) and cosine (peak -> 10% of peak)', () => {
  const base = { learningRate: 0.01, lrDecay: 0.5, epochs: 5 };
  assert.equal(getLr({ ...base, lrSchedule: 'constant' }, 4), 0.01);
  assert.ok(Math.abs(getLr({ ...base, lrSchedule: 'step' }, 3) - 0.0025) < 1e-12);
  assert.ok(Math.abs(getLr({ ...base, lrSchedule: 'cosine' }, 1) - 0.01) < 1e-12);
  assert.ok(Math.abs(getLr({ ...base, lrSchedule: 'cosine' }, 5) - 0.001) < 1e-12);
  assert.ok(getLr({ ...base, lrSchedule: 'cosine' }, 3) < 0.01 && getLr({ ...base, lrSchedule: 'cosine' }, 3) > 0.001);
});

test('train: early stopping after `patience` epochs without dev improvement; best weights restored', async () => {
  // dev = captions the model never trains on, so dev loss soon rises while train loss falls
  const dev: ImageCaptions[] = [{ imageId: 'img-a.jpg', captions: [cap(7, 7, 7, 7)] }];
  const data: TrainData = { train: TRAIN, dev, features: store };
  const history = await fit(model(3), data, { ...PARAMS, epochs: 40, patience: 2 }, 3);
  assert.ok(history.length < 40, `stopped after ${history.length} epochs`);
  const best = history.reduce((a, h) => (h.dev_loss < a.dev_loss ? h : a));
  assert.equal(history.length, best.epoch + 2);
});

test('train: the onEpoch hook sees every epoch with improved flags matching the best dev loss so far', async () => {
  const data: TrainData = { train: TRAIN, dev: TRAIN, features: store };
  const seen: [number, boolean][] = [];
  const params = { ...PARAMS, epochs: 4, optimizer: 'rmsprop' as const, learningRate: 0.01 };
  const state = await train(model(4), createOptimizer(params), data, params, 4, {
    log: () => undefined, onEpoch: async (s, improved) => void seen.push([s.epoch, improved]),
  });
  assert.deepEqual(seen.map(([e]) => e), [1, 2, 3, 4]);
  let best = Infinity;
  state.history.forEach((h, i) => {
    assert.equal(seen[i][1], h.dev_loss < best);
    best = Math.min(best, h.dev_loss);
  });
});

test('train: workers 2 (a replica thread) follows the same gradients as one thread; reproducible', async () => {
  // batches of 2 images (4 captions): each replica gets one image
  const images: ImageCaptions[] = [...TRAIN, { ...TRAIN[0], imageId: 'img-a.jpg' }, { ...TRAIN[1], imageId: 'img-b.jpg' }];
  const data: TrainData = { train: images, dev: TRAIN, features: store };
  // label smoothing on: the replica must smooth its part's loss as this thread does
  const params = { ...PARAMS, epochs: 3, batchSize: 4, labelSmoothing: 0.1 };
  const run = async (workers: number) => {
    const m = model(21);
    const { history } = await train(m, createOptimizer(params), data, { ...params, workers }, 21, { log: () => undefined });
    return { history, weights: Object.values(m.weights).map((w) => Array.from(w.dataSync())) };
  };
  const one = await run(1);
  const two = await run(2);
  assert.equal(two.history.at(-1)!.step, 6);
  // without dropout the token-weighted average is the whole batch's gradient: equal up to float rounding
  two.history.forEach((h, i) => {
    assert.ok(Math.abs(h.loss - one.history[i].loss) < 1e-4, `epoch ${i + 1}: ${h.loss} vs ${one.history[i].loss}`);
    assert.ok(Math.abs(h.dev_loss - one.history[i].dev_loss) < 1e-4, `epoch ${i + 1} dev: ${h.dev_loss} vs ${one.history[i].dev_loss}`);
  });
  const maxDiff = Math.max(...two.weights.flatMap((w, i) => w.map((x, j) => Math.abs(x - one.weights[i][j]))));
  assert.ok(maxDiff < 1e-4, `max |w2 - w1| = ${maxDiff}`);
  assert.ok(two.history[2].loss < two.history[0].loss);
  // same seed and workers -> the same bytes
  assert.deepEqual((await run(2)).weights, two.weights);
});

test('WeightAverage: avg <- d*avg + (1 - d)*w, d = min(decay, (1 + step)/(10 + step)); applied() swaps it in and back', async () => {
  const m = model(8);
  const w0 = Object.values(m.weights).map((w) => Array.from(w.dataSync()));
  const avg = WeightAverage.start(m, 0.75);
  Object.values(m.weights).forEach((w) => w.assign(tf.fill(w.shape, 2)));
  avg.update(m, 1);   // warm-up: d = 2/11
  Object.values(m.weights).forEach((w) => w.assign(tf.fill(w.shape, -1)));
  avg.update(m, 90);  // d = decay
  const d1 = 2 / 11;
  const expected = w0.map((w) => w.map((x) => 0.75 * (d1 * x + (1 - d1) * 2) + 0.25 * -1));
  const seen = await avg.applied(m, () => Object.values(m.weights).map((w) => Array.from(w.dataSync())));
  const maxDiff = Math.max(...seen.flatMap((w, i) => w.map((x, j) => Math.abs(x - expected[i][j]))));
  assert.ok(maxDiff < 1e-6, `max |avg - expected| = ${maxDiff}`);
  assert.ok(Object.values(m.weights).every((w) => w.dataSync().every((x) => x === -1)), 'live weights are back after applied()');
  avg.dispose();
});

test('train with ema: the dev loss scores the averaged weights, and those are what the model keeps', async () => {
  const data: TrainData = { train: TRAIN, dev: TRAIN, features: store };
  const params = { ...PARAMS, epochs: 6, ema: 0.9 };
  const averaged = model(12);
  const history = await fit(averaged, data, params, 12);
  const bestDev = Math.min(...history.map((h) => h.dev_loss));
  assert.ok(Math.abs(estimateLoss(averaged, TRAIN, data, 4) - bestDev) < 1e-4);
  // the same run without the average: identical train losses (the average never feeds back), other dev losses
  const raw = model(12);
  const plain = await fit(raw, data, { ...params, ema: 0 }, 12);
  assert.deepEqual(plain.map((h) => h.loss), history.map((h) => h.loss));
  assert.ok(plain.every((h, i) => Math.abs(h.dev_loss - history[i].dev_loss) > 1e-4));
});
