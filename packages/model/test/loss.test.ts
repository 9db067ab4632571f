import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initTf, tf } from '@caption/core/tf';
import { maskedCrossEntropy } from '../src/loss.ts';

before(async () => {
  await initTf('wasm');
});

/** -log softmax(row)[target], in float64. */
function nll(row: number[], target: number): number {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((a, x) => a + Math.exp(x - m), 0));
  return lse - row[target];
}

// logits [B=2, T=3, V=4]; targets with <pad>=0 at the padded positions
const logits = [
  [[1, 2, 0.5, -1], [0, 0, 0, 0], [3, -2, 1, 0.25]],
  [[-1, 0.5, 2, 1], [2, 2, -3, 0], [9, 9, 9, 9]],
];
const targets = [
  [1, 3, 0],
  [2, 1, 0],
];

test('maskedCrossEntropy equals the hand computation over the non-pad positions', () => {
  const expected = (nll(logits[0][0], 1) + nll(logits[0][1], 3) + nll(logits[1][0], 2) + nll(logits[1][1], 1)) / 4;
  const loss = tf.tidy(() => maskedCrossEntropy(tf.tensor3d(logits), tf.tensor2d(targets, [2, 3], 'int32')).dataSync()[0]);
  assert.ok(Math.abs(loss - expected) < 1e-5, `loss ${loss} vs ${expected}`);
  // uniform logits over V=4 -> ln 4 exactly
  assert.ok(Math.abs(nll(logits[0][1], 3) - Math.log(4)) < 1e-12);
});

test('maskedCrossEntropy ignores whatever the logits say at padded positions', () => {
  const a = tf.tidy(() => maskedCrossEntropy(tf.tensor3d(logits), tf.tensor2d(targets, [2, 3], 'int32')).dataSync()[0]);
  const changed = logits.map((r) => r.map((v, t) => (t === 2 ? [-50, 40, 7, 0] : v)));
  const b = tf.tidy(() => maskedCrossEntropy(tf.tensor3d(changed), tf.tensor2d(targets, [2, 3], 'int32')).dataSync()[0]);
  assert.ok(Math.abs(a - b) < 1e-6, `${a} vs ${b}`);
  // ...and no gradient flows to them
  const g = tf.tidy(() => tf.grad((x: tf.Tensor) => maskedCrossEntropy(x as tf.Tensor3D, tf.tensor2d(targets, [2, 3], 'int32')))(tf.tensor3d(logits)).arraySync() as number[][][]);
  for (const row of [g[0][2], g[1][2]]) assert.deepEqual(row.map((v) => Math.abs(v)), [0, 0, 0, 0]);
  assert.ok(g[0][0].some((v) => Math.abs(v) > 1e-3));
});

test('maskedCrossEntropy: the mean is per real token, not per row', () => {
  // row 0 has 2 real tokens, row 1 has 1: the loss is the mean over 3 tokens (a mean of row means differs)
  const lg = [[[0, 1], [1, 0], [0, 2]], [[3, 0], [5, 5], [5, 5]]];
  const tg = [[1, 0, 1], [1, 0, 0]];
  const [a, b, c] = [nll(lg[0][0], 1), nll(lg[0][2], 1), nll(lg[1][0], 1)];
  const expected = (a + b + c) / 3;
  assert.ok(Math.abs(expected - ((a + b) / 2 + c) / 2) > 0.1, 'fixture must tell the two means apart');
  const loss = tf.tidy(() => maskedCrossEntropy(tf.tensor3d(lg), tf.tensor2d(tg, [2, 3], 'int32')).dataSync()[0]);
  assert.ok(Math.abs(loss - expected) < 1e-5, `${loss} vs ${expected}`);
});

test('maskedCrossEntropy: an all-pad batch is 0, not NaN', () => {
  const loss = tf.tidy(() => maskedCrossEntropy(tf.tensor3d([[[1, 2], [3, 4]]]), tf.tensor2d([[0, 0]], [1, 2], 'int32')).dataSync()[0]);
  assert.equal(loss, 0);
});

test('maskedCrossEntropy with label smoothing ε: (1 − ε)·NLL + ε·mean −log p over the vocabulary, pads still ignored', () => {
  const eps = 0.1;
  const smoothed = (row: number[], target: number) =>
    (1 - eps) * nll(row, target) + (eps * row.reduce((a, _, v) => a + nll(row, v), 0)) / row.length;
  const expected = (smoothed(logits[0][0], 1) + smoothed(logits[0][1], 3) + smoothed(logits[1][0], 2) + smoothed(logits[1][1], 1)) / 4;
  const loss = tf.tidy(() => maskedCrossEntropy(tf.tensor3d(logits), tf.tensor2d(targets, [2, 3], 'int32'), eps).dataSync()[0]);
  assert.ok(Math.abs(loss - expected) < 1e-5, `loss ${loss} vs ${expected}`);
  const plain = tf.tidy(() => maskedCrossEntropy(tf.tensor3d(logits), tf.tensor2d(targets, [2, 3], 'int32')).dataSync()[0]);
  assert.ok(Math.abs(loss - plain) > 1e-3, 'smoothing must change the loss of this fixture');
});
