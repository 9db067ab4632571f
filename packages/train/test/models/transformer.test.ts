import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineError } from '@caption/core';
import { initTf, tf } from '@caption/core/tf';
import { createCaptionModel, DropoutSeeds, type CaptionModel, type CaptionModelConfig } from '../../src/models/index.ts';
import { maskedCrossEntropy } from '../../src/loss.ts';

const CONFIG: CaptionModelConfig = {
  decoder: 'transformer', featureShape: [5, 8], vocabSize: 11, embedDim: 8, units: 12, heads: 2, keyDim: 4, maxLength: 6, dropout: 0.3,
};
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

test('transformer: the documented weights with their shapes; layer-norm scales start at 1', () => {
  const m = createCaptionModel(CONFIG, 1);
  const shapes = Object.fromEntries(Object.entries(m.weights).map(([k, w]) => [k, w.shape]));
  const ln = (name: string, n: number) => ({ [`${name}/gamma`]: [n], [`${name}/beta`]: [n] });
  const dense = (name: string, a: number, b: number) => ({ [`${name}/kernel`]: [a, b], [`${name}/bias`]: [b] });
  const mha = (name: string) => ({ ...dense(`${name}/query`, 8, 8), ...dense(`${name}/key`, 8, 8), ...dense(`${name}/value`, 8, 8), ...dense(`${name}/output`, 8, 8) });
  assert.deepEqual(shapes, {
    ...ln('encoder/layernorm_1', 8), ...dense('encoder/dense', 8, 8), ...mha('encoder/attention'), ...ln('encoder/layernorm_2', 8),
    'decoder/token_embedding': [11, 8], 'decoder/position_embedding': [6, 8],
    ...mha('decoder/attention_1'), ...ln('decoder/layernorm_1', 8), ...mha('decoder/attention_2'), ...ln('decoder/layernorm_2', 8),
    ...dense('decoder/ffn_1', 8, 12), ...dense('decoder/ffn_2', 12, 8), ...ln('decoder/layernorm_3', 8), ...dense('decoder/output', 8, 11),
  });
  assert.deepEqual(m.config, CONFIG);
  const v = values(m);
  assert.ok(v['decoder/layernorm_3/gamma'].every((x) => x === 1));
  assert.ok(v['encoder/layernorm_1/beta'].every((x) => x === 0));
  assert.ok(v['decoder/attention_1/query/kernel'].some((x) => x !== 0));
});

test('transformer: same seed -> identical weights; different seed -> different weights', () => {
  const a = values(createCaptionModel(CONFIG, 42));
  const b = values(createCaptionModel(CONFIG, 42));
  const c = values(createCaptionModel(CONFIG, 43));
  assert.deepEqual(a, b);
  for (const k of ['encoder/dense/kernel', 'decoder/token_embedding', 'decoder/attention_2/key/kernel', 'decoder/output/kernel']) assert.notDeepEqual(a[k], c[k], k);
  assert.notDeepEqual(a['decoder/attention_1/query/kernel'], a['decoder/attention_2/query/kernel']);
});

test('transformer: forward gives logits [B, T, V]; causal; captions of one image share its encoding', () => {
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
    // the position embedding tells repeated tokens apart
    const same = m.forward(features(1), tf.tensor1d([0], 'int32'), int2d([[4, 4, 4]])).arraySync() as number[][][];
    assert.ok(maxDiff(same[0][1], same[0][2]) > 1e-6);
  });
});

test('transformer: start/next reproduce forward at every position; attention [B, L] rows sum to 1', () => {
  const m = createCaptionModel(CONFIG, 9);
  tf.tidy(() => {
    const feats = features(3, 5);
    const tokens = [[2, 2, 2], [4, 7, 9], [5, 1, 10], [6, 6, 3], [3, 8, 4]]; // T = 5 columns of B = 3
    let state = m.start(feats);
    // batch-major state: cross-attention keys/values [B, H, L, K] and the token history [B, t]
    assert.deepEqual(state.keys.shape, [3, 2, L, 4]);
    assert.deepEqual(state.tokens.shape, [3, 0]);
    const stepped: number[][][] = [];
    for (const col of tokens) {
      const r = m.next(state, tf.tensor1d(col, 'int32'));
      assert.deepEqual(r.logits.shape, [3, V]);
      assert.ok(r.attention, 'transformer returns cross-attention weights');
      assert.deepEqual(r.attention.shape, [3, L]);
      for (const row of r.attention.arraySync() as number[][]) {
        assert.ok(row.every((a) => a > 0 && a < 1), JSON.stringify(row));
        assert.ok(Math.abs(row.reduce((s, a) => s + a, 0) - 1) < 1e-5);
      }
      stepped.push(r.logits.arraySync() as number[][]);
      assert.equal(r.state.keys, state.keys, 'the encoder output is carried over, not recomputed');
      state = r.state;
      assert.deepEqual(state.tokens.shape, [3, stepped.length]);
    }
    const inputs = int2d([0, 1, 2].map((b) => tokens.map((col) => col[b])));
    const full = m.forward(feats, tf.tensor1d([0, 1, 2], 'int32'), inputs).arraySync() as number[][][];
    for (let b = 0; b < 3; b++) for (let t = 0; t < tokens.length; t++) assert.ok(maxDiff(full[b][t], stepped[t][b]) < 1e-4, `b${b} t${t}`);
  });
});

test('transformer: inputs longer than maxLength are a config error', () => {
  const m = createCaptionModel(CONFIG, 9);
  tf.tidy(() => {
    assert.throws(() => m.forward(features(1), tf.tensor1d([0], 'int32'), int2d([[2, 4, 5, 6, 7, 8, 9]])),
      (e: unknown) => e instanceof PipelineError && e.code === 'config' && /maxLength 6/.test(e.message));
  });
});

test('transformer: dropout changes training outputs only, reproducibly per seed', () => {
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

test('transformer: every weight gets a gradient; 30 Adam steps overfit 2 images x 2 captions', () => {
  const m = createCaptionModel({ ...CONFIG, dropout: 0 }, 13);
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
