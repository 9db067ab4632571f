// Keras -> ONNX conversion, one layer kind at a time: tiny TF.js models with seeded random weights
// (biases and BatchNorm statistics included), ONNX Runtime output vs TF.js (wasm) predict within 1e-4.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { Rng } from '@caption/core';
import { initTf, tf } from '@caption/core/tf';
import { buildOnnxGraph, OnnxExtractor } from '../../src/onnx/index.ts';

const TOL = 1e-4;

before(async () => {
  await initTf('wasm');
});

/** Overwrite every weight with seeded uniform values (variances kept positive). */
function randomizeWeights(model: tf.LayersModel, seed: number): void {
  const rng = new Rng(seed);
  for (const layer of model.layers) {
    const vars = layer.weights;
    if (!vars.length) continue;
    layer.setWeights(
      vars.map((v) => {
        const shape = v.shape as number[];
        const size = shape.reduce((a, b) => a * b, 1);
        const variance = /moving_variance$/.test(v.originalName);
        const values = Float32Array.from({ length: size }, () => (variance ? 0.2 + rng.next() : rng.next() * 2 - 1));
        return tf.tensor(values, shape);
      }),
    );
  }
}

interface ParityOpts {
  n?: number;
  scale?: number; // inputs uniform in [-scale, scale]
  seed?: number;
}

/** Max |ONNX - TF.js| at `cut` for random inputs [n, size, size, C]. */
async function maxDiff(model: tf.LayersModel, cut: string, size: number, opts: ParityOpts = {}): Promise<number> {
  const { n = 2, scale = 1, seed = 7 } = opts;
  const channels = model.inputs[0].shape[3] as number;
  if (channels !== 3) throw new Error('tests feed 3-channel images');
  const rng = new Rng(seed + 1000);
  const px = Float32Array.from({ length: n * size * size * 3 }, () => (rng.next() * 2 - 1) * scale);
  const ex = await OnnxExtractor.create(buildOnnxGraph(model, cut), { threads: 1 });
  const got = await ex.run(px, n, size);
  await ex.dispose();
  const sub = tf.model({ inputs: model.inputs, outputs: model.getLayer(cut).output });
  const refT = tf.tidy(() => sub.predict(tf.tensor4d(px, [n, size, size, 3])) as tf.Tensor);
  const ref = refT.dataSync();
  refT.dispose();
  assert.equal(got.length, ref.length, `output size: onnx ${got.length} vs tfjs ${ref.length} [${refT.shape}]`);
  let d = 0;
  let mag = 0;
  for (let i = 0; i < ref.length; i++) {
    d = Math.max(d, Math.abs(got[i] - ref[i]));
    mag = Math.max(mag, Math.abs(ref[i]));
  }
  assert.ok(Number.isFinite(d), 'non-finite difference');
  assert.ok(mag > 0, 'reference output is all zeros: the comparison would be vacuous');
  return d;
}

/** input [size, size, 3] -> layers applied in sequence; the cut is the last layer. */
function chain(size: number, ...layers: tf.layers.Layer[]): tf.LayersModel {
  const input = tf.input({ shape: [size, size, 3] });
  let x: tf.SymbolicTensor = input;
  for (const l of layers) x = l.apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x });
}

async function check(t: { diagnostic(msg: string): void }, label: string, model: tf.LayersModel, size: number, opts: ParityOpts = {}): Promise<void> {
  randomizeWeights(model, opts.seed ?? 7);
  const cut = model.layers[model.layers.length - 1].name;
  const d = await maxDiff(model, cut, size, opts);
  t.diagnostic(`${label}: max |diff| ${d.toExponential(2)}`);
  assert.ok(d <= TOL, `${label}: max |diff| ${d} > ${TOL}`);
}

test('Conv2D: same/valid, strides, odd and even sizes, even kernels, dilation, bias, activations', async (t) => {
  const cases: [string, number, Parameters<typeof tf.layers.conv2d>[0]][] = [
    ['3x3 s2 same on 7', 7, { filters: 4, kernelSize: 3, strides: 2, padding: 'same' }],
    ['3x3 s2 same on 8', 8, { filters: 4, kernelSize: 3, strides: 2, padding: 'same' }],
    ['4x4 s2 same on 9 (asymmetric pad)', 9, { filters: 3, kernelSize: 4, strides: 2, padding: 'same' }],
    ['2x2 s1 same on 5', 5, { filters: 3, kernelSize: 2, strides: 1, padding: 'same' }],
    ['3x3 s3 same on 10', 10, { filters: 2, kernelSize: 3, strides: 3, padding: 'same' }],
    ['5x5 s1 same', 6, { filters: 5, kernelSize: 5, padding: 'same', useBias: false }],
    ['1x7 same', 9, { filters: 4, kernelSize: [1, 7], padding: 'same' }],
    ['7x1 same', 9, { filters: 4, kernelSize: [7, 1], padding: 'same' }],
    ['3x3 s2 valid on 9', 9, { filters: 4, kernelSize: 3, strides: 2, padding: 'valid' }],
    ['3x3 s2 valid on 8', 8, { filters: 4, kernelSize: 3, strides: 2, padding: 'valid' }],
    ['1x1 valid no bias', 5, { filters: 6, kernelSize: 1, useBias: false }],
    ['3x3 dilation 2 same on 9', 9, { filters: 3, kernelSize: 3, dilationRate: 2, padding: 'same' }],
    ['3x3 relu', 6, { filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }],
    ['3x3 relu6', 6, { filters: 4, kernelSize: 3, padding: 'same', activation: 'relu6' }],
  ];
  for (const [label, size, cfg] of cases) {
    await check(t, label, chain(size, tf.layers.conv2d({ ...cfg, name: 'conv' })), size, { scale: label.includes('relu6') ? 10 : 1 });
  }
});

test('DepthwiseConv2D and SeparableConv2D: same/valid, stride 2, depth multiplier', async (t) => {
  const dw: [string, number, Parameters<typeof tf.layers.depthwiseConv2d>[0]][] = [
    ['dw 3x3 s1 same', 7, { kernelSize: 3, padding: 'same', useBias: false }],
    ['dw 3x3 s2 same on 9', 9, { kernelSize: 3, strides: 2, padding: 'same' }],
    ['dw 3x3 s2 same on 8', 8, { kernelSize: 3, strides: 2, padding: 'same' }],
    ['dw 3x3 s2 valid on 9', 9, { kernelSize: 3, strides: 2, padding: 'valid' }],
    ['dw 5x5 multiplier 2 relu', 7, { kernelSize: 5, depthMultiplier: 2, padding: 'same', activation: 'relu' }],
  ];
  for (const [label, size, cfg] of dw) {
    // a conv first so the depthwise layer sees more than 3 channels
    const model = chain(size, tf.layers.conv2d({ filters: 5, kernelSize: 1, name: 'pre' }), tf.layers.depthwiseConv2d({ ...cfg, name: 'dw' }));
    await check(t, label, model, size);
  }
  await check(t, 'separable 3x3 s1 same x2', chain(7, tf.layers.separableConv2d({ filters: 4, kernelSize: 3, padding: 'same', depthMultiplier: 2, name: 'sep' })), 7);
  await check(t, 'separable 3x3 s2 valid', chain(9, tf.layers.separableConv2d({ filters: 4, kernelSize: 3, strides: 2, useBias: false, name: 'sep' })), 9);
});

test('BatchNormalization: scale false (InceptionV3), center false, both, axis 3 and -1', async (t) => {
  const cases: [string, Parameters<typeof tf.layers.batchNormalization>[0]][] = [
    ['scale false', { scale: false, axis: 3, epsilon: 0.001 }],
    ['center false', { center: false, epsilon: 0.01 }],
    ['scale+center', { axis: -1, epsilon: 1e-3 }],
    ['neither', { scale: false, center: false }],
  ];
  for (const [label, cfg] of cases) {
    await check(t, label, chain(5, tf.layers.conv2d({ filters: 6, kernelSize: 3, name: 'conv' }), tf.layers.batchNormalization({ ...cfg, name: 'bn' })), 5);
  }
});

test('ZeroPadding2D (asymmetric, as in MobileNetV2) and Cropping2D', async (t) => {
  await check(t, 'pad [[0,1],[0,1]] + 3x3 s2 valid', chain(8, tf.layers.zeroPadding2d({ padding: [[0, 1], [0, 1]], name: 'pad' }), tf.layers.conv2d({ filters: 3, kernelSize: 3, strides: 2, name: 'conv' })), 8);
  await check(t, 'pad [[2,0],[1,3]]', chain(5, tf.layers.zeroPadding2d({ padding: [[2, 0], [1, 3]], name: 'pad' })), 5);
  await check(t, 'pad 1', chain(5, tf.layers.zeroPadding2d({ padding: 1, name: 'pad' })), 5);
  await check(t, 'crop [[1,0],[0,2]]', chain(6, tf.layers.cropping2D({ cropping: [[1, 0], [0, 2]], name: 'crop' })), 6);
});

test('MaxPooling2D and AveragePooling2D: same/valid, odd and even sizes', async (t) => {
  const cases: [string, number, Parameters<typeof tf.layers.maxPooling2d>[0]][] = [
    ['3x3 s2 valid on 9', 9, { poolSize: 3, strides: 2, padding: 'valid' }],
    ['3x3 s2 valid on 8', 8, { poolSize: 3, strides: 2, padding: 'valid' }],
    ['3x3 s1 same on 7', 7, { poolSize: 3, strides: 1, padding: 'same' }],
    ['3x3 s2 same on 8', 8, { poolSize: 3, strides: 2, padding: 'same' }],
    ['2x2 s2 same on 7', 7, { poolSize: 2, strides: 2, padding: 'same' }],
    ['2x2 default strides', 6, { poolSize: 2 }],
  ];
  for (const [label, size, cfg] of cases) {
    // a conv with bias first so values are not all positive / centred (max-pool padding must be -inf)
    await check(t, `max ${label}`, chain(size, tf.layers.conv2d({ filters: 3, kernelSize: 1, name: 'pre' }), tf.layers.maxPooling2d({ ...cfg, name: 'pool' })), size, { scale: 3 });
    await check(t, `avg ${label}`, chain(size, tf.layers.conv2d({ filters: 3, kernelSize: 1, name: 'pre' }), tf.layers.averagePooling2d({ ...cfg, name: 'pool' })), size, { scale: 3 });
  }
});

test('merges: Concatenate (axis -1, 3, spatial), Add (2 and 3 inputs), Multiply, Maximum, Minimum, Average, residual block', async (t) => {
  const S = 6;
  const branches = (k: number) => {
    const input = tf.input({ shape: [S, S, 3] });
    const outs = Array.from({ length: k }, (_, i) => tf.layers.conv2d({ filters: 4, kernelSize: i + 1, padding: 'same', name: `b${i}` }).apply(input) as tf.SymbolicTensor);
    return { input, outs };
  };
  const merge = (k: number, layer: tf.layers.Layer) => {
    const { input, outs } = branches(k);
    return tf.model({ inputs: input, outputs: layer.apply(outs) as tf.SymbolicTensor });
  };
  await check(t, 'concat -1', merge(3, tf.layers.concatenate({ axis: -1, name: 'm' })), S);
  await check(t, 'concat 3', merge(2, tf.layers.concatenate({ axis: 3, name: 'm' })), S);
  await check(t, 'concat 1 (height)', merge(2, tf.layers.concatenate({ axis: 1, name: 'm' })), S);
  await check(t, 'concat 2 (width)', merge(2, tf.layers.concatenate({ axis: 2, name: 'm' })), S);
  await check(t, 'add 2', merge(2, tf.layers.add({ name: 'm' })), S);
  await check(t, 'add 3', merge(3, tf.layers.add({ name: 'm' })), S);
  await check(t, 'multiply 3', merge(3, tf.layers.multiply({ name: 'm' })), S);
  await check(t, 'maximum 3', merge(3, tf.layers.maximum({ name: 'm' })), S);
  await check(t, 'minimum 2', merge(2, tf.layers.minimum({ name: 'm' })), S);
  await check(t, 'average 3', merge(3, tf.layers.average({ name: 'm' })), S);

  // a residual block: conv -> bn -> relu6 -> conv, added back to its input (MobileNetV2's shape)
  const input = tf.input({ shape: [S, S, 3] });
  const a = tf.layers.conv2d({ filters: 4, kernelSize: 1, name: 'a' }).apply(input) as tf.SymbolicTensor;
  const b = tf.layers.batchNormalization({ name: 'bn' }).apply(tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', name: 'dw' }).apply(a)) as tf.SymbolicTensor;
  const c = tf.layers.reLU({ maxValue: 6, name: 'r6' }).apply(b) as tf.SymbolicTensor;
  const d = tf.layers.conv2d({ filters: 4, kernelSize: 1, name: 'proj' }).apply(c) as tf.SymbolicTensor;
  await check(t, 'residual block', tf.model({ inputs: input, outputs: tf.layers.add({ name: 'res' }).apply([a, d]) as tf.SymbolicTensor }), S, { scale: 5 });
});

test('ReLU(max_value 6), Activation layers, LeakyReLU, ELU, Softmax, Rescaling, Dropout', async (t) => {
  const S = 5;
  const conv = () => tf.layers.conv2d({ filters: 4, kernelSize: 1, name: 'pre' });
  // scale 10 drives values well past 6 so the clip matters
  await check(t, 'ReLU max 6', chain(S, conv(), tf.layers.reLU({ maxValue: 6, name: 'act' })), S, { scale: 10 });
  await check(t, 'ReLU', chain(S, conv(), tf.layers.reLU({ name: 'act' })), S, { scale: 10 });
  const acts = ['relu', 'relu6', 'linear', 'sigmoid', 'tanh', 'softmax', 'logSoftmax', 'elu', 'selu', 'softplus', 'softsign', 'hardSigmoid', 'swish', 'mish', 'gelu'] as const;
  type ActivationName = Parameters<typeof tf.layers.activation>[0]['activation'];
  for (const a of acts) {
    // (TF.js's ActivationIdentifier type omits some names its registry has: logSoftmax, gelu, mish)
    await check(t, `Activation ${a}`, chain(S, conv(), tf.layers.activation({ activation: a as ActivationName, name: 'act' })), S, { scale: 4 });
  }
  await check(t, 'LeakyReLU', chain(S, conv(), tf.layers.leakyReLU({ alpha: 0.2, name: 'act' })), S);
  await check(t, 'ELU', chain(S, conv(), tf.layers.elu({ name: 'act' })), S);
  await check(t, 'ThresholdedReLU', chain(S, conv(), tf.layers.thresholdedReLU({ theta: 0.3, name: 'act' })), S);
  await check(t, 'Softmax', chain(S, conv(), tf.layers.softmax({ axis: -1, name: 'act' })), S);
  await check(t, 'Rescaling', chain(S, tf.layers.rescaling({ scale: 1 / 127.5, offset: -1, name: 'resc' }), conv(), tf.layers.dropout({ rate: 0.5, name: 'drop' })), S, { scale: 255 });
});

test('output layout: NHWC [N,S,S,3] in, [N, h*w, C] out, dynamic batch, cut in the middle of a model', async () => {
  const input = tf.input({ shape: [7, 7, 3] });
  const mid = tf.layers.conv2d({ filters: 5, kernelSize: 3, strides: 2, padding: 'same', name: 'mid' }).apply(input) as tf.SymbolicTensor;
  const head = tf.layers.dense({ units: 2, name: 'head' }).apply(tf.layers.flatten({ name: 'flat' }).apply(mid)) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: head });
  randomizeWeights(model, 3);
  const bytes = buildOnnxGraph(model, 'mid'); // layers after the cut are ignored
  const session = await ort.InferenceSession.create(bytes);
  assert.deepEqual(session.inputNames, ['image']);
  assert.deepEqual(session.outputNames, ['features']);
  for (const n of [1, 3]) {
    const px = new Float32Array(n * 7 * 7 * 3).map((_, i) => Math.sin(i));
    const out = (await session.run({ image: new ort.Tensor('float32', px, [n, 7, 7, 3]) })).features;
    assert.deepEqual(out.dims, [n, 16, 5]);
    const ref = tf.tidy(() => (tf.model({ inputs: input, outputs: mid }).predict(tf.tensor4d(px, [n, 7, 7, 3])) as tf.Tensor).dataSync());
    const data = out.data as Float32Array;
    for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(data[i] - ref[i]) <= TOL, `n=${n} element ${i}: ${data[i]} vs ${ref[i]}`);
  }
  await session.release();
});

test('the weights are baked in: changing the Keras weights after conversion breaks parity', async () => {
  const model = chain(6, tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'conv' }));
  randomizeWeights(model, 1);
  const bytes = buildOnnxGraph(model, 'conv');
  randomizeWeights(model, 2);
  const px = new Float32Array(6 * 6 * 3).map((_, i) => Math.cos(i));
  const ex = await OnnxExtractor.create(bytes, { threads: 1 });
  const got = await ex.run(px, 1, 6);
  await ex.dispose();
  const ref = tf.tidy(() => (model.predict(tf.tensor4d(px, [1, 6, 6, 3])) as tf.Tensor).dataSync());
  const d = Math.max(...ref.map((v, i) => Math.abs(v - got[i])));
  assert.ok(d > 0.01, `expected a large difference, got ${d}`);
});

test('unsupported layers and activations are rejected with the layer name and class', () => {
  const up = chain(4, tf.layers.upSampling2d({ size: [2, 2], name: 'up' }));
  assert.throws(() => buildOnnxGraph(up, 'up'), /'up'.*UpSampling2D/);
  const perm = chain(4, tf.layers.conv2d({ filters: 2, kernelSize: 1, name: 'c' }), tf.layers.permute({ dims: [2, 1, 3], name: 'perm' }));
  assert.throws(() => buildOnnxGraph(perm, 'perm'), /'perm'.*Permute/);
  const act = chain(4, tf.layers.activation({ activation: 'gelu_new', name: 'gn' }));
  assert.throws(() => buildOnnxGraph(act, 'gn'), /'gn'.*Activation.*gelu_new/);
  assert.throws(() => buildOnnxGraph(act, 'nope'), /no layer 'nope'/);
});

test('OnnxExtractor checks its input and refuses to run after dispose', async () => {
  const model = chain(4, tf.layers.conv2d({ filters: 2, kernelSize: 1, name: 'c' }));
  const ex = await OnnxExtractor.create(buildOnnxGraph(model, 'c'), { threads: 1 });
  await assert.rejects(ex.run(new Float32Array(10), 1, 4), /pixel values/);
  await ex.dispose();
  await assert.rejects(ex.run(new Float32Array(48), 1, 4), /dispose/);
});
