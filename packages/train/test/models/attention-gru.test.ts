import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineError } from '@caption/core';
import { initTf, tf } from '@caption/core/tf';
import { createCaptionModel, type CaptionModel, type CaptionModelConfig } from '../../src/models/index.ts';

const CONFIG: CaptionModelConfig = { decoder: 'attention-gru', featureShape: [5, 8], vocabSize: 11, embedDim: 6, units: 7 };
const [L, D] = CONFIG.featureShape;
const V = CONFIG.vocabSize;

before(async () => {
  await initTf('wasm');
});

const values = (m: CaptionModel) => Object.fromEntries(Object.entries(m.weights).map(([k, w]) => [k, Array.from(w.dataSync())]));

function features(K: number, seed = 3): tf.Tensor3D {
  return tf.randomUniform([K, L, D], 0, 1, 'float32', seed) as tf.Tensor3D;
}

test('attention-gru: the documented weights with their shapes', () => {
  const m = createCaptionModel(CONFIG, 1);
  const shapes = Object.fromEntries(Object.entries(m.weights).map(([k, w]) => [k, w.shape]));
  assert.deepEqual(shapes, {
    'encoder/kernel': [8, 6], 'encoder/bias': [6],
    embedding: [11, 6],
    'attention/W1/kernel': [6, 7], 'attention/W1/bias': [7],
    'attention/W2/kernel': [7, 7], 'attention/W2/bias': [7],
    'attention/V/kernel': [7, 1], 'attention/V/bias': [1],
    'gru/kernel': [12, 21], 'gru/recurrent_kernel': [7, 21], 'gru/bias': [21], 'gru/recurrent_bias': [21],
    'fc1/kernel': [7, 7], 'fc1/bias': [7],
    'fc2/kernel': [7, 11], 'fc2/bias': [11],
  });
  assert.deepEqual(m.config, CONFIG);
  for (const w of Object.values(m.weights)) assert.ok(w.trainable);
  // initialisers: biases zero, kernels not
  assert.ok(values(m)['gru/bias'].every((x) => x === 0));
  assert.ok(values(m)['gru/kernel'].some((x) => x !== 0));
  assert.ok(values(m)['embedding'].every((x) => Math.abs(x) <= 0.05));
});

test('attention-gru: same seed -> identical weights; different seed -> different weights', () => {
  const a = values(createCaptionModel(CONFIG, 42));
  const b = values(createCaptionModel(CONFIG, 42));
  const c = values(createCaptionModel(CONFIG, 43));
  assert.deepEqual(a, b);
  for (const k of ['encoder/kernel', 'embedding', 'gru/kernel', 'fc2/kernel']) assert.notDeepEqual(a[k], c[k], k);
  // within one model, each weight has its own seed
  assert.notDeepEqual(a['fc1/kernel'], a['attention/W2/kernel']);
});

test('attention-gru: forward gives logits [B, T, V]; captions of one image share its encoding', () => {
  const m = createCaptionModel(CONFIG, 7);
  tf.tidy(() => {
    const feats = features(2);
    const imageIndex = tf.tensor1d([0, 0, 1], 'int32');
    const inputs = tf.tensor2d([[2, 4, 5, 0], [2, 4, 5, 6], [2, 4, 5, 0]], [3, 4], 'int32');
    const out = m.forward(feats, imageIndex, inputs);
    assert.deepEqual(out.shape, [3, 4, V]);
    const y = out.arraySync() as number[][][];
    assert.ok(y.flat(2).every(Number.isFinite));
    // rows 0 and 1 (same image, same prefix) agree on the first 3 steps; row 2 (other image) does not
    for (let t = 0; t < 3; t++) {
      y[0][t].forEach((v, k) => assert.ok(Math.abs(v - y[1][t][k]) < 1e-5));
    }
    assert.ok(y[0][0].some((v, k) => Math.abs(v - y[2][0][k]) > 1e-6), 'different images must give different logits');
    // causal: the step-3 input does not change earlier outputs, only step 3
    assert.ok(y[0][3].some((v, k) => Math.abs(v - y[1][3][k]) > 1e-6));
  });
});

test('attention-gru: start/next decode one step at a time; attention rows sum to 1; matches forward', () => {
  const m = createCaptionModel(CONFIG, 9);
  tf.tidy(() => {
    const feats = features(3, 5);
    let state = m.start(feats);
    assert.deepEqual(state.h.shape, [3, 7]);
    const tokens = [[2, 2, 2], [4, 7, 9], [5, 1, 10]];
    const stepped: number[][][] = [];
    for (const col of tokens) {
      const r = m.next(state, tf.tensor1d(col, 'int32'));
      assert.deepEqual(r.logits.shape, [3, V]);
      assert.ok(r.attention, 'attention-gru returns attention weights');
      assert.deepEqual(r.attention.shape, [3, L]);
      for (const row of r.attention.arraySync() as number[][]) {
        assert.ok(row.every((a) => a > 0 && a < 1), JSON.stringify(row));
        assert.ok(Math.abs(row.reduce((s, a) => s + a, 0) - 1) < 1e-5);
      }
      stepped.push(r.logits.arraySync() as number[][]);
      state = r.state;
    }
    // teacher forcing over the same tokens gives the same logits as stepping
    const inputs = tf.tensor2d(tokens[0].map((_, b) => tokens.map((col) => col[b])), [3, 3], 'int32');
    const full = m.forward(feats, tf.tensor1d([0, 1, 2], 'int32'), inputs).arraySync() as number[][][];
    for (let b = 0; b < 3; b++) {
      for (let t = 0; t < 3; t++) full[b][t].forEach((v, k) => assert.ok(Math.abs(v - stepped[t][b][k]) < 1e-4, `b${b} t${t}`));
    }
  });
});

test('createCaptionModel: unknown decoder is a config error', () => {
  assert.throws(
    () => createCaptionModel({ ...CONFIG, decoder: 'no-such-decoder' } as unknown as CaptionModelConfig, 1),
    (e: unknown) => e instanceof PipelineError && e.code === 'config' && /unknown decoder 'no-such-decoder'/.test(e.message),
  );
});
