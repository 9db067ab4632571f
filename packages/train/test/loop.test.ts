import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FeatureStore, encodeFeatureShard, type Logger } from '@caption/core';
import { initTf, tf } from '@caption/core/tf';
import type { ImageCaptions } from '../src/batches.ts';
import { estimateLoss, getBatchTensors, train, type TrainData } from '../src/loop.ts';
import { makeBatches } from '../src/batches.ts';
import { createCaptionModel } from '../src/models/index.ts';
import type { TrainParams } from '../src/params.ts';

const L = 4;
const D = 6;
const V = 9;
let tmp: string;
let store: FeatureStore;
const silent: Logger = { info: () => true, warn: () => true };

/** A real FeatureStore: one Arrow shard written to <dir>/shards/, loaded back. */
async function writeStore(dir: string, rows: Record<string, number[]>): Promise<FeatureStore> {
  const ids = Object.keys(rows);
  await mkdir(path.join(dir, 'shards'), { recursive: true });
  await writeFile(path.join(dir, 'shards', 'shard-00000.arrow'), encodeFeatureShard({
    imageIds: ids, sha256s: ids.map((id) => `sha-${id}`), shape: [L, D], dtype: 'float32',
    data: Float32Array.from(ids.flatMap((id) => rows[id])), metadata: { backbone: 'test' },
  }));
  return FeatureStore.load(dir);
}

before(async () => {
  await initTf('wasm');
  tmp = await mkdtemp(path.join(os.tmpdir(), 'train-loop-'));
  store = await writeStore(tmp, {
    'img-a.jpg': Array.from({ length: L * D }, (_, i) => (i % 3 === 0 ? 1 : 0)),
    'img-b.jpg': Array.from({ length: L * D }, (_, i) => (i % 3 === 1 ? 1 : 0.2)),
  });
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

// <start>=2 <end>=3; image a is about words 4/5, image b about 6/7/8
const cap = (...ids: number[]) => Int32Array.from([2, ...ids, 3]);
const TRAIN: ImageCaptions[] = [
  { imageId: 'img-a.jpg', captions: [cap(4, 5, 4), cap(4, 5)] },
  { imageId: 'img-b.jpg', captions: [cap(6, 7, 8, 6), cap(6, 8)] },
];
const PARAMS: TrainParams = {
  decoder: 'attention-gru', epochs: 30, batchSize: 2, embedDim: 8, units: 16,
  learningRate: 0.02, clipNorm: 5, backend: 'wasm',
};
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

test('train: overfits 2 images x 2 captions; best dev epoch restored; deterministic for a seed', () => {
  const data: TrainData = { train: TRAIN, dev: TRAIN, features: store };
  const m = model(11);
  const before = estimateLoss(m, TRAIN, data, 4);
  assert.ok(Math.abs(before - Math.log(V)) < 0.5, `initial loss ${before} should be near ln V = ${Math.log(V)}`);

  const history = train(m, data, PARAMS, 11, silent);
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
  const again = train(model(11), data, { ...PARAMS, epochs: 3 }, 11, silent);
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
