// Keras -> ONNX conversion of the layers EfficientNetB0, VGG16 and pooled backbones need beyond 4-D
// feature maps: global pooling, Flatten (NHWC order), Reshape, Dense, squeeze-excite broadcasting,
// Rescaling / Normalization / ChannelAffine preprocessing, and 2-D / 3-D cuts. ONNX Runtime output vs
// TF.js (wasm) predict within 1e-4 (relative to the output magnitude where it is far from 1).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initTf, tf } from '@caption/core/tf';
import { ChannelAffine, Normalization } from '../../src/architectures/layers.ts';
import { buildOnnxGraph, SUPPORTED_LAYERS } from '../../src/onnx/index.ts';
import { chain, maxDiff, randomizeWeights } from './parity.ts';

const TOL = 1e-4;
type T = tf.SymbolicTensor;

before(async () => {
  await initTf('wasm');
});

async function check(t: { diagnostic(msg: string): void }, label: string, model: tf.LayersModel, size: number, expectDims: [number, number] | null, opts: { scale?: number; seed?: number; cut?: string } = {}): Promise<void> {
  randomizeWeights(model, opts.seed ?? 7);
  const { diff, mag, dims } = await maxDiff(model, size, opts);
  const rel = diff / Math.max(1, mag);
  t.diagnostic(`${label}: max |diff| ${diff.toExponential(2)} (max |out| ${mag.toExponential(2)}) -> [${dims}]`);
  if (expectDims) assert.deepEqual(dims.slice(1), expectDims, `${label}: [L, D]`);
  assert.ok(rel <= TOL, `${label}: max |diff| ${diff} (relative ${rel}) > ${TOL}`);
}

const conv = (filters: number, name = 'conv', k = 3) => tf.layers.conv2d({ filters, kernelSize: k, padding: 'same', name });

test('the new layers are listed as supported', () => {
  for (const l of ['GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'Flatten', 'Reshape', 'Dense', 'Normalization', 'ChannelAffine', 'Rescaling', 'Multiply']) {
    assert.ok(SUPPORTED_LAYERS.includes(l), l);
  }
});

test('GlobalAveragePooling2D / GlobalMaxPooling2D: a 2-D cut gives [N, 1, C]', async (t) => {
  await check(t, 'GAP', chain(6, conv(5), tf.layers.globalAveragePooling2d({ name: 'gap' })), 6, [1, 5]);
  await check(t, 'GMP', chain(7, conv(4), tf.layers.globalMaxPooling2d({ name: 'gmp' })), 7, [1, 4]);
});

test('Flatten keeps Keras NHWC order (row, column, channel); Dense after it (the VGG16 head)', async (t) => {
  // H, W, C all > 1 and distinct: flattening NCHW instead would scramble every element
  await check(t, 'Flatten 3x3x4', chain(6, conv(4), tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }), tf.layers.flatten({ name: 'flat' })), 6, [1, 36]);
  await check(t, 'Flatten -> Dense relu -> Dense relu', chain(6, conv(4), tf.layers.flatten({ name: 'flat' }), tf.layers.dense({ units: 7, activation: 'relu', name: 'fc1' }), tf.layers.dense({ units: 5, activation: 'relu', name: 'fc2' })), 6, [1, 5], { scale: 2 });
  await check(t, 'Dense softmax, no bias', chain(5, conv(3), tf.layers.flatten({ name: 'flat' }), tf.layers.dense({ units: 6, activation: 'softmax', useBias: false, name: 'probs' })), 5, [1, 6]);
  await check(t, 'Dense linear + BatchNormalization (2-D) + Activation swish + Dropout', chain(4, conv(2), tf.layers.flatten({ name: 'flat' }), tf.layers.dense({ units: 8, name: 'fc' }), tf.layers.batchNormalization({ name: 'bn' }), tf.layers.activation({ activation: 'swish', name: 'act' }), tf.layers.dropout({ rate: 0.3, name: 'drop' })), 4, [1, 8]);
  await check(t, 'Softmax layer on 2-D', chain(4, conv(2), tf.layers.globalAveragePooling2d({ name: 'gap' }), tf.layers.softmax({ name: 'sm' })), 4, [1, 2], { scale: 3 });
});

test('Dense on a feature map (last axis) and on a 3-D tensor; Reshape to 3-D and back to 4-D', async (t) => {
  await check(t, 'Dense on [N,H,W,C]', chain(5, conv(3), tf.layers.dense({ units: 4, activation: 'sigmoid', name: 'fc' })), 5, [25, 4]);
  await check(t, 'Reshape [N,H,W,C] -> [N,H*W,C] -> Dense -> 3-D cut', chain(4, conv(6), tf.layers.reshape({ targetShape: [16, 6], name: 'seq' }), tf.layers.dense({ units: 3, name: 'fc' })), 4, [16, 3]);
  await check(t, 'Reshape to [-1, 2] (a 3-D cut, C split in pairs)', chain(3, conv(4), tf.layers.reshape({ targetShape: [-1, 2], name: 'pairs' })), 3, [18, 2]);
  await check(t, 'Reshape 4-D -> 4-D [W, H, C] (different spatial layout)', chain(4, conv(2), tf.layers.reshape({ targetShape: [2, 8, 2], name: 'r' }), conv(3, 'after')), 4, [16, 3]);
});

test('squeeze-excite (EfficientNet): GAP -> Reshape [1,1,C] -> conv swish -> conv sigmoid -> Multiply broadcast [N,H,W,C] x [N,1,1,C]', async (t) => {
  const input = tf.input({ shape: [7, 7, 3] });
  const x = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'swish', name: 'expand' }).apply(input) as T;
  let se = tf.layers.globalAveragePooling2d({ name: 'se_squeeze' }).apply(x) as T;
  se = tf.layers.reshape({ targetShape: [1, 1, 8], name: 'se_reshape' }).apply(se) as T;
  se = tf.layers.conv2d({ filters: 2, kernelSize: 1, activation: 'swish', name: 'se_reduce' }).apply(se) as T;
  se = tf.layers.conv2d({ filters: 8, kernelSize: 1, activation: 'sigmoid', name: 'se_expand' }).apply(se) as T;
  const out = tf.layers.multiply({ name: 'se_excite' }).apply([x, se]) as T;
  await check(t, 'squeeze-excite', tf.model({ inputs: input, outputs: out }), 7, [49, 8], { scale: 2 });
  // broadcasting the other way round too (se first)
  const out2 = tf.layers.multiply({ name: 'excite2' }).apply([se, x]) as T;
  await check(t, 'squeeze-excite (se first)', tf.model({ inputs: input, outputs: out2 }), 7, [49, 8], { scale: 2 });
});

test('preprocessing layers: per-channel Rescaling, Normalization (Keras weights), ChannelAffine (BGR caffe)', async (t) => {
  await check(t, 'Rescaling per-channel scale + offset', chain(4, tf.layers.rescaling({ scale: [0.5, -2, 3] as unknown as number, offset: -1, name: 'resc' })), 4, [16, 3]);
  const norm = new Normalization({ name: 'norm' });
  const m = chain(4, norm, conv(2));
  randomizeWeights(m, 5);
  norm.setWeights([tf.tensor1d([0.485, 0.456, 0.406]), tf.tensor1d([0.229, 0.224, 0.225]), tf.scalar(0)]);
  const { diff } = await maxDiff(m, 4, { cut: 'norm' });
  assert.ok(diff <= 1e-6, `Normalization: ${diff}`);
  const { diff: d2 } = await maxDiff(m, 4);
  assert.ok(d2 <= TOL, `Normalization -> conv: ${d2}`);
  const zeroVar = chain(3, new Normalization({ name: 'norm0', mean: [0, 1, 2], variance: [1, 0, 4] }));
  assert.ok((await maxDiff(zeroVar, 3)).diff <= 1e-6, 'constant statistics, a zero variance (denominator floored at 1e-7)');
  const caffe = chain(4, new ChannelAffine({ name: 'pipeline_input', source: [2, 1, 0], scale: 255, offset: [-103.939, -116.779, -123.68] }));
  const { diff: d3, mag } = await maxDiff(caffe, 4, { scale: 1 });
  t.diagnostic(`ChannelAffine: ${d3} (max ${mag})`);
  assert.ok(d3 <= 1e-4, `ChannelAffine: ${d3}`);
  // the channel order matters: BGR of a red pixel
  const px = tf.tensor4d([1, 0, 0], [1, 1, 1, 3]);
  const one = chain(1, new ChannelAffine({ name: 'bgr', source: [2, 1, 0], scale: 1, offset: 0 }));
  assert.deepEqual(Array.from((one.predict(px) as tf.Tensor).dataSync()), [0, 0, 1]);
});

test('merges on 2-D: Concatenate of two pooled branches, Add; mixed ranks are rejected', async (t) => {
  const input = tf.input({ shape: [5, 5, 3] });
  const a = tf.layers.globalAveragePooling2d({ name: 'ga' }).apply(conv(3, 'ca').apply(input)) as T;
  const b = tf.layers.globalMaxPooling2d({ name: 'gb' }).apply(conv(3, 'cb').apply(input)) as T;
  await check(t, 'concat 2-D', tf.model({ inputs: input, outputs: tf.layers.concatenate({ name: 'cat' }).apply([a, b]) as T }), 5, [1, 6]);
  await check(t, 'add 2-D', tf.model({ inputs: input, outputs: tf.layers.add({ name: 'sum' }).apply([a, b]) as T }), 5, [1, 3]);
  const map = conv(3, 'map').apply(input) as T;
  let mixed: tf.LayersModel | undefined;
  try {
    mixed = tf.model({ inputs: input, outputs: tf.layers.multiply({ name: 'mixed' }).apply([map, a]) as T });
  } catch (err) {
    t.diagnostic(`TF.js refuses [N,H,W,C] x [N,C] itself (${(err as Error).message.slice(0, 80)})`);
    return;
  }
  assert.throws(() => buildOnnxGraph(mixed!, 'mixed'), /'mixed' \(Multiply\): inputs of different ranks/);
});

test('layers that need a feature map refuse vectors, with the layer named', () => {
  const input = tf.input({ shape: [4, 4, 3] });
  const v = tf.layers.flatten({ name: 'flat' }).apply(input) as T;
  const r = tf.layers.reshape({ targetShape: [4, 12], name: 'r3' }).apply(v) as T;
  const bn = tf.layers.batchNormalization({ name: 'bn3' }).apply(r) as T;
  assert.throws(() => buildOnnxGraph(tf.model({ inputs: input, outputs: bn }), 'bn3'), /'bn3' \(BatchNormalization\): a 3-D input is not supported/);
});
