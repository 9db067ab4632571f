/**
 * ONNX-vs-TF.js parity helpers for converter tests (not a test file): seeded random weights for every
 * layer (biases and BatchNorm statistics included), random inputs, max |diff| at a cut layer.
 */
import assert from 'node:assert/strict';
import { Rng } from '@caption/core';
import { tf } from '@caption/core/tf';
import { buildOnnxGraph, OnnxExtractor } from '../../src/onnx/index.ts';

/** Overwrite every weight with seeded uniform values in [-1, 1] (variances 0.2..1.2). */
export function randomizeWeights(model: tf.LayersModel, seed: number): void {
  const rng = new Rng(seed);
  for (const layer of model.layers) {
    const vars = layer.weights;
    if (!vars.length) continue;
    layer.setWeights(vars.map((v) => {
      const shape = v.shape as number[];
      const size = shape.reduce((a, b) => a * b, 1);
      const positive = /(moving_)?variance$/.test(v.originalName);
      return tf.tensor(Float32Array.from({ length: size }, () => (positive ? 0.2 + rng.next() : rng.next() * 2 - 1)), shape);
    }));
  }
}

/** input [size, size, 3] -> layers applied in sequence. */
export function chain(size: number, ...layers: tf.layers.Layer[]): tf.LayersModel {
  const input = tf.input({ shape: [size, size, 3] });
  let x: tf.SymbolicTensor = input;
  for (const l of layers) x = l.apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x });
}

/**
 * Max |ONNX - TF.js| at `cut` (default: the model's last layer) for seeded inputs uniform in
 * [-scale, scale]; also checks the ONNX output is [n, L, D] with L, D from the Keras output shape.
 */
export async function maxDiff(model: tf.LayersModel, size: number, opts: { cut?: string; n?: number; scale?: number; seed?: number } = {}): Promise<{ diff: number; mag: number; dims: number[] }> {
  const { n = 2, scale = 1, seed = 7 } = opts;
  const cut = opts.cut ?? model.layers[model.layers.length - 1].name;
  const rng = new Rng(seed + 1000);
  const px = Float32Array.from({ length: n * size * size * 3 }, () => (rng.next() * 2 - 1) * scale);
  const ex = await OnnxExtractor.create(buildOnnxGraph(model, cut), { threads: 1 });
  const got = await ex.run(px, n, size);
  await ex.dispose();
  const sub = tf.model({ inputs: model.inputs, outputs: model.getLayer(cut).output as tf.SymbolicTensor });
  const refT = tf.tidy(() => sub.predict(tf.tensor4d(px, [n, size, size, 3])) as tf.Tensor);
  const shape = refT.shape;
  const ref = refT.dataSync();
  refT.dispose();
  assert.equal(got.length, ref.length, `output size: onnx ${got.length} vs tfjs ${ref.length} [${shape}]`);
  let diff = 0;
  let mag = 0;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - ref[i]));
    mag = Math.max(mag, Math.abs(ref[i]));
  }
  assert.ok(Number.isFinite(diff), 'non-finite difference');
  assert.ok(mag > 0, 'reference output is all zeros: the comparison would be vacuous');
  const d = shape[shape.length - 1];
  return { diff, mag, dims: [n, ref.length / n / d, d] };
}
