/**
 * `pnpm bench:conv-grads [--batch 32]`: one MobileNetV2 inverted-residual block at 14x14 (1x1 expand 96 -> 576,
 * 3x3 depthwise, 1x1 project 576 -> 96: the shape of blocks 11-13, the encoder head issue 18 fine-tunes) on TF.js
 * wasm: forward alone, and forward + backward with the composed conv gradients (tf/wasm-conv-grads.ts). Prints ms
 * per batch and images/s.
 */
import { parseArgs } from 'node:util';
import { initTf, tf } from '../packages/core/src/tf/runtime.ts';

const { values } = parseArgs({ options: { batch: { type: 'string', default: '32' }, steps: { type: 'string', default: '5' } } });
const B = Number(values.batch);
const steps = Number(values.steps);
console.log(`backend ${await initTf('wasm')}`);
const block = tf.sequential({ layers: [
  tf.layers.conv2d({ inputShape: [14, 14, 96], filters: 576, kernelSize: 1, useBias: false, activation: 'relu' }),
  tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, activation: 'relu' }),
  tf.layers.conv2d({ filters: 96, kernelSize: 1, useBias: false }),
] });
const x = tf.randomNormal([B, 14, 14, 96]);
const optimizer = tf.train.sgd(1e-3);
const loss = () => (block.apply(x) as tf.Tensor).square().mean() as tf.Scalar;

function time(label: string, fn: () => void): void {
  fn(); // warm-up
  const started = performance.now();
  for (let i = 0; i < steps; i++) fn();
  const ms = (performance.now() - started) / steps;
  console.log(`${label}: ${ms.toFixed(0)} ms per batch of ${B} = ${(B / (ms / 1000)).toFixed(1)} images/s`);
}
time('forward', () => tf.tidy(() => void loss().dataSync()));
time('forward + backward + update', () => tf.tidy(() => void optimizer.minimize(loss, true)!.dataSync()));
