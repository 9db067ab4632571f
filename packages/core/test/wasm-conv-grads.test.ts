/**
 * The convolution gradients registered for wasm (tf/wasm-conv-grads.ts) against the cpu backend's own kernels:
 * the gradients of a conv layer's input and filter under a random upstream gradient, for the shapes an encoder
 * head has (1x1 expand/project convs, 3x3 depthwise convs, stride 1 and 2, 'same' and 'valid'). TF.js itself refuses
 * the gradient of a dilated depthwise conv, so dilation is not exercised.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { initTf, tf } from '../src/tf/runtime.ts';
import { assertClose, onCpu, onWasm, randoms, read, size, type Result } from './tf-compare.ts';

before(async () => {
  assert.equal(await initTf('wasm'), 'wasm');
});

interface ConvCase {
  name: string;
  depthwise?: boolean;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number;
  pad: 'same' | 'valid';
}

const cases: ConvCase[] = [
  { name: '1x1 conv, stride 1 (expand / project)', x: [2, 7, 7, 8], filter: [1, 1, 8, 5], strides: 1, pad: 'same' },
  { name: '3x3 conv, stride 2, same', x: [2, 9, 9, 4], filter: [3, 3, 4, 6], strides: 2, pad: 'same' },
  { name: '3x3 conv, stride 1, valid', x: [1, 6, 5, 3], filter: [3, 3, 3, 2], strides: 1, pad: 'valid' },
  { name: '3x3 conv, stride 2, valid, even input', x: [1, 8, 8, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'valid' },
  { name: '3x3 depthwise, stride 1, same', depthwise: true, x: [2, 7, 7, 6], filter: [3, 3, 6, 1], strides: 1, pad: 'same' },
  { name: '3x3 depthwise, stride 2, same, even input', depthwise: true, x: [2, 8, 8, 4], filter: [3, 3, 4, 1], strides: 2, pad: 'same' },
  { name: '3x3 depthwise, stride 2, valid, multiplier 2', depthwise: true, x: [1, 9, 9, 3], filter: [3, 3, 3, 2], strides: 2, pad: 'valid' },
  { name: '5x5 depthwise, stride 1, same', depthwise: true, x: [1, 11, 11, 2], filter: [5, 5, 2, 1], strides: 1, pad: 'same' },
];

/** d(sum(conv(x, W) · R))/dx and /dW for fixed random x, W and upstream R. */
function gradients(c: ConvCase): { dx: Result; dw: Result } {
  const x = tf.tensor4d(randoms(1, size(c.x)), c.x);
  const w = tf.tensor4d(randoms(2, size(c.filter)), c.filter);
  const conv = (a: tf.Tensor4D, b: tf.Tensor4D) => (c.depthwise
    ? tf.depthwiseConv2d(a, b, c.strides, c.pad)
    : tf.conv2d(a, b, c.strides, c.pad));
  const upstream = tf.tensor(randoms(3, conv(x, w).size), conv(x, w).shape);
  const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => conv(a as tf.Tensor4D, b as tf.Tensor4D).mul(upstream).sum())([x, w]);
  return { dx: read(dx), dw: read(dw) };
}

for (const c of cases) {
  test(`wasm gradients of a ${c.name} equal cpu`, async () => {
    const wasm = onWasm(() => gradients(c));
    const cpu = await onCpu(() => gradients(c));
    assertClose(wasm.dx, cpu.dx, 1e-4, 'dx');
    assertClose(wasm.dw, cpu.dw, 1e-4, 'dW');
    assert.ok(cpu.dw.values.some((v) => Math.abs(v) > 0.1), 'a gradient that is not all zeros');
  });
}

test('wasm: a conv + depthwise layer stack trains a step (fused kernels in the forward pass) and leaks no tensors', () => {
  onWasm(() => {
    const model = tf.sequential({ layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 4], filters: 6, kernelSize: 1, activation: 'relu', kernelInitializer: 'glorotUniform' }),
      tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: 3 }),
    ] });
    const optimizer = tf.train.sgd(0.1);
    const x = tf.tensor4d(randoms(4, 2 * 8 * 8 * 4), [2, 8, 8, 4]);
    const y = tf.tensor2d(randoms(5, 6), [2, 3]);
    const loss = () => tf.losses.meanSquaredError(y, model.apply(x) as tf.Tensor) as tf.Scalar;
    const before = loss().dataSync()[0];
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) optimizer.minimize(loss);
    assert.equal(tf.memory().numTensors, tensors, 'tensors left behind by the gradient kernels');
    assert.ok(loss().dataSync()[0] < before, 'the loss went down');
  });
});
