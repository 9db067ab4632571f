/**
 * MobileNetV2 and InceptionV3 built in code (architectures/) as keras.applications builds them, checked against
 * a real pretrained Keras network: the nsfwjs models (Keras 2.2.4 MobileNetV2 / InceptionV3, fine-tuned) give
 * their weights, layer by layer in topological order, to the in-code networks, whose outputs at the cut
 * (out_relu / mixed10) must then equal the nsfwjs models' on real images. Then ONNX vs TF.js parity of the
 * in-code networks, and Keras .h5 files whose layer names are not the network's loading by topological order.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { initTf, tf } from '@caption/core/tf';
import { inceptionV3 } from '../src/architectures/inception-v3.ts';
import { mobileNetV2 } from '../src/architectures/mobilenet-v2.ts';
import { buildOnnxGraph, OnnxExtractor } from '../src/onnx/index.ts';
import { assignFromH5, assignRandom, weightedLayers } from '../src/weights/assign.ts';
import { openKerasH5, writeKerasH5 } from '../src/weights/h5.ts';
import { assertSameWeights, demoImages, diffPerRow, pixels, predict, tempRoot } from './helpers/fixtures.ts';
import { copyByOrder, kerasLayers, nsfwjsPretrained, oldKerasName, upTo } from './helpers/keras-nets.ts';

const N = 2; // InceptionV3 on wasm: ~1 image/s
/** max |in-code - nsfwjs| relative to max |nsfwjs| at the cut: the same network computes the same numbers */
const SAME_NETWORK_REL = 1e-4;
/** max |ONNX - TF.js| relative to max |TF.js|: pretrained weights; seeded random ones (larger activations, ReLU6 saturated) */
const ONNX_REL = 1e-4;
const ONNX_REL_RANDOM = 1e-3;

interface Net {
  id: 'mobilenet_v2' | 'inception_v3';
  size: number;
  cut: string;
  build: (size: number, opts?: { stopAt?: string; inputTransform?: { scale: number; offset: number } }) => tf.LayersModel;
}
const NETS: Record<Net['id'], Net> = {
  mobilenet_v2: { id: 'mobilenet_v2', size: 224, cut: 'out_relu', build: mobileNetV2 },
  inception_v3: { id: 'inception_v3', size: 299, cut: 'mixed10', build: inceptionV3 },
};

let root: Awaited<ReturnType<typeof tempRoot>>;
let files: string[];
const px = new Map<number, Float32Array>();
/** per network: the nsfwjs model (whole), the in-code network with its weights, both outputs at the cut */
const pretrained = new Map<string, Promise<{ nsfwjs: tf.LayersModel; mine: tf.LayersModel; pairs: [string, string][]; ref: Float32Array; got: Float32Array }>>();

before(async () => {
  await initTf('wasm');
  root = await tempRoot('keras-arch-');
  files = await demoImages(root.dir, N);
  for (const s of [224, 299]) px.set(s, await pixels(files, s));
});
after(async () => root?.cleanup());

function withPretrained(net: Net) {
  if (!pretrained.has(net.id)) {
    pretrained.set(net.id, (async () => {
      const nsfwjs = await nsfwjsPretrained(net.id);
      const mine = net.build(net.size);
      const pairs = copyByOrder(upTo(nsfwjs, net.cut), mine);
      const x = px.get(net.size)!;
      return { nsfwjs, mine, pairs, ref: predict(upTo(nsfwjs, net.cut), x, N, net.size), got: predict(mine, x, N, net.size) };
    })());
  }
  return pretrained.get(net.id)!;
}

function assertSameOutputs(t: { diagnostic(m: string): void }, what: string, got: Float32Array, ref: Float32Array, rel: number): void {
  diffPerRow(got, ref, N).forEach((d, i) => {
    let nonzero = 0;
    for (let k = (i * ref.length) / N; k < ((i + 1) * ref.length) / N; k++) if (ref[k] !== 0) nonzero++;
    t.diagnostic(`${what} image ${i}: max |diff| ${d.maxAbs.toExponential(2)}, max |ref| ${d.maxRef.toFixed(3)}, rel ${d.rel.toExponential(2)}, nonzero ${nonzero}`);
    assert.ok(nonzero > 100, `${what} image ${i}: only ${nonzero} nonzero features: the comparison would be vacuous`);
    assert.ok(d.rel < rel, `${what} image ${i}: max |diff| ${d.maxAbs} is ${d.rel} of max |ref| ${d.maxRef} (>= ${rel})`);
  });
}

test('mobilenet_v2 in code: the nsfwjs (Keras) MobileNetV2 layer for layer, same names, same out_relu on real images', async (t) => {
  const net = NETS.mobilenet_v2;
  const { nsfwjs, mine, pairs, ref, got } = await withPretrained(net);
  const keras = upTo(nsfwjs, net.cut);
  assert.deepEqual(mine.layers.map((l) => l.name), keras.layers.map((l) => l.name), 'every layer, Keras names, Keras order');
  assert.deepEqual(mine.layers.map((l) => l.getClassName()), keras.layers.map((l) => l.getClassName()));
  assert.ok(pairs.every(([a, b]) => a === b));
  assert.equal(pairs.length, 104);
  assert.deepEqual(mine.outputs[0].shape, [null, 7, 7, 1280]);
  assertSameOutputs(t, 'mobilenet_v2 out_relu vs nsfwjs', got, ref, SAME_NETWORK_REL);
});

test('inception_v3 in code: the nsfwjs (Keras 2.2.4) InceptionV3 layer for layer, its auto names numbered from 1, same mixed10', async (t) => {
  const net = NETS.inception_v3;
  const { nsfwjs, mine, pairs, ref, got } = await withPretrained(net);
  const keras = upTo(nsfwjs, net.cut);
  assert.equal(mine.layers[1].name, 'conv2d');
  assert.equal(keras.layers[1].name, 'conv2d_1');
  // the same layers in the same topological order; today's names are Keras 2.2.4's renumbered from 0
  assert.deepEqual(mine.layers.map((l) => oldKerasName(l.name)), keras.layers.map((l) => l.name));
  assert.deepEqual(mine.layers.map((l) => l.getClassName()), keras.layers.map((l) => l.getClassName()));
  assert.equal(pairs.length, 188);
  assert.deepEqual(mine.outputs[0].shape, [null, 8, 8, 2048]);
  assertSameOutputs(t, 'inception_v3 mixed10 vs nsfwjs', got, ref, SAME_NETWORK_REL);
});

test('stopAt: the networks end at the named layer (the part a cut there needs)', () => {
  const m = mobileNetV2(224, { stopAt: 'block_13_expand_relu' });
  assert.equal(m.layers[m.layers.length - 1].name, 'block_13_expand_relu');
  assert.deepEqual(m.outputs[0].shape, [null, 14, 14, 576]);
  const i = inceptionV3(299, { stopAt: 'mixed7', inputTransform: { scale: 2, offset: -1 } });
  assert.deepEqual(i.layers.slice(0, 3).map((l) => l.name), ['input_1', 'pipeline_input', 'conv2d']);
  assert.equal(i.layers[i.layers.length - 1].name, 'mixed7');
  assert.deepEqual(i.outputs[0].shape, [null, 17, 17, 768]);
  assert.equal(weightedLayers(i).length, 2 * 70); // 70 conv2d_bn blocks up to mixed7 (94 in all)
});

async function onnxParity(t: { diagnostic(m: string): void }, what: string, model: tf.LayersModel, net: Net, ref: Float32Array, rel = ONNX_REL): Promise<void> {
  const ex = await OnnxExtractor.create(buildOnnxGraph(model, net.cut), { threads: 2 });
  try {
    const got = await ex.run(px.get(net.size)!, N, net.size);
    assertSameOutputs(t, `${what} ONNX vs TF.js`, got, ref, rel);
  } finally {
    await ex.dispose();
  }
}

test('mobilenet_v2 in code: ONNX Runtime matches TF.js (pretrained weights; seeded random weights with the x*2-1 input transform)', async (t) => {
  const net = NETS.mobilenet_v2;
  const { mine, got } = await withPretrained(net);
  await onnxParity(t, 'mobilenet_v2 pretrained', mine, net, got);
  const random = mobileNetV2(224, { inputTransform: { scale: 2, offset: -1 } });
  assignRandom(weightedLayers(random), 5);
  await onnxParity(t, 'mobilenet_v2 random, pipeline_input', random, net, predict(random, px.get(224)!, N, 224), ONNX_REL_RANDOM);
});

test('inception_v3 in code: ONNX Runtime matches TF.js (pretrained weights)', async (t) => {
  const net = NETS.inception_v3;
  const { mine, got } = await withPretrained(net);
  await onnxParity(t, 'inception_v3 pretrained', mine, net, got);
});

test('inception_v3: a Keras .h5 with old-Keras names (conv2d_1 ..., classifier after mixed10) loads by topological order', async (t) => {
  const net = NETS.inception_v3;
  const { nsfwjs, mine, got } = await withPretrained(net);
  // what Keras 2.2.4's save_weights writes for the whole nsfwjs model: its names, its order, its dense head
  const file = path.join(root.dir, 'inception_v3_old_names.h5');
  const layers = kerasLayers(nsfwjs);
  await writeKerasH5(file, layers, { kerasVersion: '2.2.4' });
  const h5 = await openKerasH5(file);
  try {
    assert.ok(h5.layers.has('conv2d_1') && !h5.layers.has('conv2d') && h5.layers.has('dense_3'));
    const fresh = inceptionV3(299);
    const r = assignFromH5(weightedLayers(fresh), h5, 'inception_v3');
    assert.equal(r.by, 'order');
    assert.equal(r.used, 188);
    t.diagnostic(`${r.used} layers by order, ${assertSameWeights(mine, fresh).toLocaleString('en')} weights identical`);
    const out = predict(fresh, px.get(299)!, N, 299);
    assert.ok(Buffer.from(out.buffer).equals(Buffer.from(got.buffer)), 'outputs identical to the network given the weights directly');
    // the same hash as the same values assigned by name would give
    const byName = path.join(root.dir, 'inception_v3_new_names.h5');
    await writeKerasH5(byName, kerasLayers(fresh));
    const h5b = await openKerasH5(byName);
    try {
      const again = assignFromH5(weightedLayers(inceptionV3(299)), h5b, 'inception_v3');
      assert.equal(again.by, 'name');
      assert.equal(again.hash, r.hash);
    } finally {
      h5b.close();
    }
    // a network cut earlier takes the first layers of the file
    const early = inceptionV3(299, { stopAt: 'mixed7' });
    const e = assignFromH5(weightedLayers(early), h5, 'inception_v3 (up to mixed7)');
    assert.equal(e.by, 'order');
    assert.equal(e.used, 140);
    assertSameWeights(upTo(mine, 'mixed7'), early);
  } finally {
    h5.close();
  }
});

test('loading by topological order: a changed shape or too few layers fail naming the pair', async () => {
  const nsfwjs = (await withPretrained(NETS.inception_v3)).nsfwjs;
  const layers = kerasLayers(upTo(nsfwjs, 'mixed10'));
  const at = layers.findIndex((l) => l.name === 'conv2d_50');
  const bad = layers[at];
  const shape = [...bad.weights[0].shape];
  shape[3] += 1; // one more output channel
  bad.weights[0] = { ...bad.weights[0], shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) };
  const file = path.join(root.dir, 'inception_v3_bad_shape.h5');
  await writeKerasH5(file, layers);
  const h5 = await openKerasH5(file);
  try {
    const net = inceptionV3(299);
    const k = weightedLayers(net).findIndex((l) => l.name === 'conv2d_49') + 1;
    assert.throws(() => assignFromH5(weightedLayers(net), h5, 'inception_v3'), (err: Error) => {
      assert.match(err.message, /inception_v3_bad_shape\.h5: does not fit inception_v3: its layer names are not the network's/);
      assert.ok(err.message.includes(`by topological order (as Keras' load_weights pairs layers): file layer 'conv2d_50' (paired with the network's weighted layer #${k} of 188, 'conv2d_49' (Conv2D)) weight 'conv2d_50/kernel:0' has shape [${shape.join(', ')}]; the network needs kernel [${bad.weights[0].shape.slice(0, 3).join(', ')}, ${shape[3] - 1}]`), err.message);
      return true;
    });
    // the weights are checked before any is set: the network keeps its zeros
    assert.equal(tf.tidy(() => tf.max(tf.abs(net.getLayer('conv2d').getWeights()[0])).dataSync()[0]), 0);
  } finally {
    h5.close();
  }
  const short = path.join(root.dir, 'inception_v3_short.h5');
  await writeKerasH5(short, kerasLayers(upTo(nsfwjs, 'mixed9')));
  const h5s = await openKerasH5(short);
  try {
    assert.throws(() => assignFromH5(weightedLayers(inceptionV3(299)), h5s, 'inception_v3'), /the file has 170 layers with weights, the network needs 188/);
  } finally {
    h5s.close();
  }
});

test('mobilenet_v2: a file with Keras names loads by name, whatever its layer order', async () => {
  const { nsfwjs, mine } = await withPretrained(NETS.mobilenet_v2);
  const layers = kerasLayers(nsfwjs).reverse(); // by order this could not load
  const file = path.join(root.dir, 'mobilenet_v2_reversed.h5');
  await writeKerasH5(file, layers);
  const h5 = await openKerasH5(file);
  try {
    const fresh = mobileNetV2(224);
    const r = assignFromH5(weightedLayers(fresh), h5, 'mobilenet_v2');
    assert.equal(r.by, 'name');
    assert.equal(r.used, 104);
    assertSameWeights(mine, fresh);
  } finally {
    h5.close();
  }
});
