import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initTf, tf } from '@caption/core/tf';
import { createCaptionModel, DropoutSeeds, type CaptionModel, type CaptionModelConfig } from '../../src/models/index.ts';
import { maskedCrossEntropy } from '../../src/loss.ts';

const CONFIG: CaptionModelConfig = { decoder: 'merge-lstm', featureShape: [5, 8], vocabSize: 11, embedDim: 6, units: 7, dropout: 0.3 };
const [L, D] = CONFIG.featureShape;
const V = CONFIG.vocabSize;

before(async () => {
  await initTf('wasm');
});

const values = (m: CaptionModel) => Object.fromEntries(Object.entries(m.weights).map(([k, w]) => [k, Array.from(w.dataSync())]));
const features = (K: number, seed = 3) => tf.randomUniform([K, L, D], 0, 1, 'float32', seed) as tf.Tensor3D;
const int2d = (rows: number[][]) => tf.tensor2d(rows, [rows.length, rows[0].length], 'int32');
const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));

// 2 images x 2 captions; inputs = caption[:-1], targets = caption[1:]
const CAPTIONS = [[2, 4, 5, 6, 3], [2, 4, 7, 8, 3], [2, 9, 10, 3, 0], [2, 9, 6, 5, 3]];
const batch = () => ({
  imageIndex: tf.tensor1d([0, 0, 1, 1], 'int32'),
  inputs: int2d(CAPTIONS.map((c) => c.slice(0, -1))),
  targets: int2d(CAPTIONS.map((c) => c.slice(1))),
});

test('merge-lstm: the documented weights with their shapes; forget-gate bias starts at 1', () => {
  const m = createCaptionModel(CONFIG, 1);
  const shapes = Object.fromEntries(Object.entries(m.weights).map(([k, w]) => [k, w.shape]));
  assert.deepEqual(shapes, {
    'image/kernel': [8, 7], 'image/bias': [7], embedding: [11, 6],
    'lstm/kernel': [6, 28], 'lstm/recurrent_kernel': [7, 28], 'lstm/bias': [28],
    'merge/kernel': [7, 7], 'merge/bias': [7], 'output/kernel': [7, 11], 'output/bias': [11],
  });
  assert.deepEqual(m.config, CONFIG);
  const v = values(m);
  // gate order i, f, g, o
  assert.deepEqual(v['lstm/bias'], [...Array(7).fill(0), ...Array(7).fill(1), ...Array(14).fill(0)]);
  assert.ok(v['embedding'].every((x) => Math.abs(x) <= 0.05) && v['embedding'].some((x) => x !== 0));
});

test('merge-lstm: same seed -> identical weights; different seed -> different weights', () => {
  const a = values(createCaptionModel(CONFIG, 42));
  const b = values(createCaptionModel(CONFIG, 42));
  const c = values(createCaptionModel(CONFIG, 43));
  assert.deepEqual(a, b);
  for (const k of ['image/kernel', 'embedding', 'lstm/kernel', 'lstm/recurrent_kernel', 'merge/kernel', 'output/kernel']) assert.notDeepEqual(a[k], c[k], k);
  assert.notDeepEqual(a['merge/kernel'].slice(0, 42), a['output/kernel'].slice(0, 42));
});

test('merge-lstm: forward gives logits [B, T, V]; causal; captions of one image share its image branch', () => {
  const m = createCaptionModel(CONFIG, 7);
  tf.tidy(() => {
    const inputs = int2d([[2, 4, 5, 0], [2, 4, 5, 6], [2, 4, 5, 0]]);
    const y = m.forward(features(2), tf.tensor1d([0, 0, 1], 'int32'), inputs);
    assert.deepEqual(y.shape, [3, 4, V]);
    const out = y.arraySync() as number[][][];
    assert.ok(out.flat(2).every(Number.isFinite));
    // rows 0 and 1 differ only at the last input: earlier positions must not see it
    for (let t = 0; t < 3; t++) assert.ok(maxDiff(out[0][t], out[1][t]) < 1e-5, `t${t}`);
    assert.ok(maxDiff(out[0][3], out[1][3]) > 1e-6);
    assert.ok(maxDiff(out[0][0], out[2][0]) > 1e-6, 'different images must give different logits');
  });
});

test('merge-lstm: start/next reproduce forward at every position; no attention', () => {
  const m = createCaptionModel(CONFIG, 9);
  tf.tidy(() => {
    const feats = features(3, 5);
    const tokens = [[2, 2, 2], [4, 7, 9], [5, 1, 10], [6, 6, 3], [3, 8, 4]]; // T = 5 columns of B = 3
    let state = m.start(feats);
    assert.deepEqual(Object.keys(state).sort(), ['c', 'h', 'img']);
    assert.deepEqual(state.img.shape, [3, 7]);
    const stepped: number[][][] = [];
    for (const col of tokens) {
      const r = m.next(state, tf.tensor1d(col, 'int32'));
      assert.deepEqual(r.logits.shape, [3, V]);
      assert.equal(r.attention, undefined);
      stepped.push(r.logits.arraySync() as number[][]);
      state = r.state;
    }
    const inputs = int2d([0, 1, 2].map((b) => tokens.map((col) => col[b])));
    const full = m.forward(feats, tf.tensor1d([0, 1, 2], 'int32'), inputs).arraySync() as number[][][];
    for (let b = 0; b < 3; b++) for (let t = 0; t < tokens.length; t++) assert.ok(maxDiff(full[b][t], stepped[t][b]) < 1e-4, `b${b} t${t}`);
  });
});

test('merge-lstm: dropout changes training outputs only, reproducibly per seed', () => {
  const m = createCaptionModel(CONFIG, 11);
  tf.tidy(() => {
    const { imageIndex, inputs } = batch();
    const feats = features(2);
    const run = (dropout?: DropoutSeeds) => Array.from(m.forward(feats, imageIndex, inputs, { dropout }).dataSync());
    const inference = run();
    assert.deepEqual(run(), inference, 'inference is deterministic');
    const trainA = run(new DropoutSeeds(5));
    assert.ok(maxDiff(trainA, inference) > 1e-4, 'dropout must change training outputs');
    assert.deepEqual(run(new DropoutSeeds(5)), trainA, 'same DropoutSeeds seed -> same masks');
    assert.ok(maxDiff(run(new DropoutSeeds(6)), trainA) > 1e-4, 'another seed -> other masks');
  });
});

test('merge-lstm: every weight gets a gradient; 30 Adam steps overfit 2 images x 2 captions', () => {
  const m = createCaptionModel({ ...CONFIG, embedDim: 32, units: 64, dropout: 0 }, 13);
  const feats = features(2);
  const { imageIndex, inputs, targets } = batch();
  const loss = () => maskedCrossEntropy(m.forward(feats, imageIndex, inputs), targets);
  const weights = Object.values(m.weights);

  const { grads } = tf.variableGrads(loss, weights);
  for (const w of weights) {
    const g = grads[w.name];
    assert.ok(g, `no gradient for ${w.name}`);
    const gv = Array.from(g.dataSync());
    assert.ok(gv.every(Number.isFinite) && gv.some((x) => x !== 0), `zero gradient for ${w.name}`);
  }
  tf.dispose(grads);

  const optimizer: tf.Optimizer = tf.train.adam(0.01);
  const losses: number[] = [];
  for (let step = 0; step < 30; step++) {
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(loss, weights);
      losses.push(value.dataSync()[0]);
      optimizer.applyGradients(grads);
    });
  }
  const last = tf.tidy(() => loss().dataSync()[0]);
  assert.ok(last < 0.3 * losses[0], `loss ${losses[0].toFixed(3)} -> ${last.toFixed(3)}`);
  optimizer.dispose();
});
