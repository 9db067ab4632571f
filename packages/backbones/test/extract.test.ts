import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initTf, tf } from '@caption/core/tf';
import type { Backbone } from '../src/registry/index.ts';
import { tfjsEngine } from '../src/engines.ts';
import { extractFeatures, type FeatureBatch, type ImageRef } from '../src/extract.ts';

const S = 4;
const backbone: Backbone = { id: 'tiny', inputSize: S, cutLayer: 'conv', shape: [S * S, 2], architecture: 'vgg16', imagenet: {}, preprocessing: 'test' };
let extractor: tf.LayersModel;

before(async () => {
  await initTf('wasm');
  // a 1x1 convolution with fixed weights: feature = [sum of RGB, R - B] per pixel
  const input = tf.input({ shape: [S, S, 3] });
  const conv = tf.layers.conv2d({ filters: 2, kernelSize: 1, useBias: false, name: 'conv' });
  extractor = tf.model({ inputs: input, outputs: conv.apply(input) as tf.SymbolicTensor });
  conv.setWeights([tf.tensor4d([1, 1, 1, 0, 1, -1], [1, 1, 3, 2])]);
});

const ref = (n: number, file = `f${n}`): ImageRef => ({ image_id: `img${n}`, sha256: `s${n}`, file });
/** Pixel (y, x) of file fN: RGB = (N, x/4, y/4). */
async function decode(file: string, size: number): Promise<Float32Array> {
  await new Promise((r) => setTimeout(r, 1));
  if (file.startsWith('bad')) throw new Error(`cannot decode ${file}\nsecond line`);
  const n = Number(file.slice(1));
  const px = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) px.set([n, x / 4, y / 4], (y * size + x) * 3);
  return px;
}
const expected = (n: number) => {
  const out: number[] = [];
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) out.push(n + x / 4 + y / 4, n - y / 4);
  return out;
};

async function run(images: ImageRef[], batchSize: number) {
  const batches: FeatureBatch[] = [];
  const engine = tfjsEngine(extractor, backbone, 'wasm');
  for await (const b of extractFeatures(images, engine, { batchSize, concurrency: 2, inputSize: S }, decode)) batches.push(b);
  return batches;
}

test('extractFeatures: batches in order, [n, L, D] row-major values, decode failures reported not fatal', async () => {
  const images = [ref(1), ref(2), ref(3, 'bad3'), ref(4), ref(5)];
  const batches = await run(images, 2);
  assert.equal(batches.length, 3);
  assert.deepEqual(batches.map((b) => b.images.map((i) => i.image_id)), [['img1', 'img2'], ['img4'], ['img5']]);
  assert.deepEqual(batches[1].failed, [{ image: images[2], reason: 'decode failed: cannot decode bad3' }]);
  assert.deepEqual(batches.flatMap((b) => b.failed.map((f) => f.image.image_id)), ['img3']);
  for (const b of batches) {
    assert.ok(b.values instanceof Float32Array);
    const want = b.images.flatMap((i) => expected(Number(i.image_id.slice(3))));
    assert.equal(b.values.length, b.images.length * S * S * 2);
    b.values.forEach((v, k) => assert.ok(Math.abs(v - want[k]) < 1e-5, `${k}: ${v} vs ${want[k]}`));
  }
});

test('extractFeatures: an all-failed batch is empty but reported; no images, no batches', async () => {
  const batches = await run([ref(1), ref(2), ref(7, 'bad7')], 2);
  assert.deepEqual(batches[1].images, []);
  assert.equal(batches[1].values.length, 0);
  assert.equal(batches[1].failed.length, 1);
  assert.deepEqual(await run([], 2), []);
});
