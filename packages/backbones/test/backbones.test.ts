/**
 * The backbone registry through loadKerasBackbone and both engines, with seeded random weights, on 2 real
 * (generated demo) JPEGs decoded like the pipeline does: feature shapes, ONNX Runtime vs TF.js, and the
 * errors for weights that do not exist offline.
 *
 * Tolerance: max |ONNX - TF.js| <= 1e-4 x max |TF.js feature| per image. Both run the same float32
 * network; they differ only in summation order (ORT's im2col/GEMM and folded BatchNorm vs TF.js wasm
 * kernels), an error that grows ~linearly with depth at a few float32 ulps (1.2e-7) per layer: measured
 * <= ~3e-6 relative (VGG16 fc2 ~1e-6, EfficientNetB0 ~1e-6); 1e-4 leaves ~30x headroom, while one wrong
 * layer (a transposed kernel, NCHW flattening, a missing bias or BatchNorm term) is off by O(1).
 * Relative, because feature magnitudes differ by orders between backbones (VGG16 fc2 values are large).
 */
import { after, before, test } from 'node:test';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import assert from 'node:assert/strict';
import { initTf } from '@caption/core/tf';
import { BACKBONES, BACKBONE_IDS, type Backbone } from '../src/registry/index.ts';
import { onnxEngine, tfjsEngine } from '../src/engines.ts';
import { imagenetFile, loadKerasBackbone } from '../src/load.ts';

/** The backbones that are Keras networks (a graph-model backbone has only its packaged weights). */
const KERAS_IDS = BACKBONE_IDS.filter((id) => !(BACKBONES[id] as Backbone).graph);
import { RANDOM_WEIGHTS_NOTE } from '../src/weights/random.ts';
import { demoImages, diffPerRow, pixels, tempRoot } from './helpers/fixtures.ts';

const REL_TOL = 1e-4;
let root: Awaited<ReturnType<typeof tempRoot>>;
let files: string[];
let backend: string;

before(async () => {
  backend = await initTf('wasm');
  root = await tempRoot('backbones-');
  files = await demoImages(root.dir, 2);
});
after(async () => root?.cleanup());

async function bothEngines(t: { diagnostic(m: string): void }, id: keyof typeof BACKBONES, expected: [number, number], opts: { cutLayer?: string } = {}) {
  const started = Date.now();
  const { extractor, weightsHash, weightsNote, backbone } = await loadKerasBackbone(BACKBONES[id], { weights: 'random', seed: 42, ...opts });
  assert.deepEqual(backbone.shape, expected);
  assert.equal(weightsNote, RANDOM_WEIGHTS_NOTE);
  assert.match(weightsHash, /^[0-9a-f]{64}$/);
  const S = backbone.inputSize;
  const n = files.length;
  const px = await pixels(files, S);
  const tfjs = tfjsEngine(extractor, backbone, backend);
  const ref = await tfjs.run(px, n);
  const onnx = await onnxEngine(extractor, backbone, weightsHash);
  const got = await onnx.run(px, n);
  onnx.dispose();
  const [L, D] = expected;
  assert.equal(ref.length, n * L * D, 'TF.js feature size');
  assert.equal(got.length, n * L * D, 'ONNX feature size');
  const diffs = diffPerRow(got, ref, n);
  diffs.forEach((d, i) => t.diagnostic(`${id} image ${i}: max |onnx - tfjs| ${d.maxAbs.toExponential(2)}, max |feature| ${d.maxRef.toExponential(2)}, relative ${d.rel.toExponential(2)}`));
  for (const d of diffs) {
    assert.ok(d.maxRef > 0, `${id}: all-zero features`);
    assert.ok(d.rel <= REL_TOL, `${id}: ONNX vs TF.js relative diff ${d.rel} > ${REL_TOL}`);
  }
  // the two images give different features (the network sees the pixels)
  let differ = 0;
  for (let k = 0; k < L * D; k++) differ = Math.max(differ, Math.abs(ref[k] - ref[L * D + k]));
  assert.ok(differ > 1e-3 * diffs[0].maxRef, `${id}: both images give the same features`);
  t.diagnostic(`${id}: ${Date.now() - started} ms`);
  return { backbone, extractor, ref };
}

test('registry: input size, cut layer, shape and preprocessing of every backbone', () => {
  const table = Object.fromEntries(BACKBONE_IDS.map((id) => {
    const b: Backbone = BACKBONES[id];
    return [id, [b.inputSize, b.cutLayer, b.shape, b.nsfwjs !== undefined]];
  }));
  assert.deepEqual(table, {
    mobilenet_v2: [224, 'out_relu', [49, 1280], true],
    inception_v3: [299, 'mixed10', [64, 2048], true],
    inception_v3_pooled: [299, 'mixed10_avg_pool', [1, 2048], true],
    efficientnet_b0: [299, 'top_activation', [100, 1280], false],
    vgg16: [224, 'fc2', [1, 4096], false],
    centernet: [512, 'tower_0/MobilenetV3/expanded_conv_14/add', [64, 120], false],
  });
  assert.match(BACKBONES.vgg16.preprocessing, /BGR/);
  assert.match(BACKBONES.efficientnet_b0.preprocessing, /Normalization/);
  assert.match(BACKBONES.inception_v3.preprocessing, /x\*2 - 1 \(Keras preprocess_input mode='tf'/);
  assert.match(BACKBONES.mobilenet_v2.preprocessing, /x\*2 - 1 \(Keras preprocess_input mode='tf'/);
  assert.match(BACKBONES.mobilenet_v2.nsfwjs.preprocessing, /RGB, x\/255$/);
});

test('imagenet: the keras.applications file of each backbone, with the hash Keras pins', () => {
  const files = Object.fromEntries(KERAS_IDS.map((id) => {
    const f = imagenetFile(BACKBONES[id]);
    return [id, [f.file, f.md5 ?? null]];
  }));
  assert.deepEqual(files, {
    mobilenet_v2: ['mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5', null],
    inception_v3: ['inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5', 'bcbd6486424b2319ff4ef7d526e38f63'],
    inception_v3_pooled: ['inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5', 'bcbd6486424b2319ff4ef7d526e38f63'],
    efficientnet_b0: ['efficientnetb0_notop.h5', '50bc09e76180e00e4465e1a485ddc09d'],
    vgg16: ['vgg16_weights_tf_dim_ordering_tf_kernels.h5', '64373286793e3c8b2b4e3219cbf3544b'],
  });
  // a VGG16 cut in the convolutional part needs only the no-top file
  assert.equal(imagenetFile(BACKBONES.vgg16, 'block5_pool').file, 'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5');
  for (const id of KERAS_IDS) assert.match(imagenetFile(BACKBONES[id]).url, /^https:\/\/storage\.googleapis\.com\/(tensorflow\/)?keras-applications\//);
});

test('efficientnet_b0 (random weights): [100, 1280] from both engines, ONNX matches TF.js', async (t) => {
  const { extractor } = await bothEngines(t, 'efficientnet_b0', [100, 1280]);
  const names = extractor.layers.map((l) => l.name);
  for (const n of ['pipeline_input', 'rescaling', 'normalization', 'stem_conv', 'block1a_dwconv', 'block1a_se_squeeze', 'block1a_se_excite', 'block6d_add', 'top_conv', 'top_bn', 'top_activation']) {
    assert.ok(names.includes(n), `layer ${n}`);
  }
  assert.equal(extractor.countParams(), 4049571 + 0, 'keras EfficientNetB0 (include_top=False) has 4,049,571 parameters');
});

test('vgg16 (random weights): [1, 4096] from fc2 on both engines, ONNX matches TF.js (relative)', async (t) => {
  const { extractor } = await bothEngines(t, 'vgg16', [1, 4096]);
  assert.equal(extractor.countParams(), 134260544, 'keras VGG16 up to fc2');
});

test('inception_v3_pooled (random weights): mixed10 average-pooled to [1, 2048]; equals the mean of inception_v3 locations', async (t) => {
  const pooled = await bothEngines(t, 'inception_v3_pooled', [1, 2048]);
  const full = await loadKerasBackbone(BACKBONES.inception_v3, { weights: 'random', seed: 42 });
  const px = await pixels(files, 299);
  const map = await tfjsEngine(full.extractor, full.backbone, backend).run(px, files.length); // [n, 64, 2048]
  for (let i = 0; i < files.length; i++) {
    for (let d = 0; d < 2048; d += 97) {
      let s = 0;
      for (let l = 0; l < 64; l++) s += map[(i * 64 + l) * 2048 + d];
      assert.ok(Math.abs(s / 64 - pooled.ref[i * 2048 + d]) <= 1e-5 * (1 + Math.abs(s / 64)), `image ${i} channel ${d}`);
    }
  }
});

test('cutLayer override: the feature shape follows the layer, on both engines', async (t) => {
  await bothEngines(t, 'efficientnet_b0', [361, 80], { cutLayer: 'block4c_add' });
});

test('pretrained weights for efficientnet_b0 / vgg16: a clear error', async () => {
  for (const id of ['efficientnet_b0', 'vgg16'] as const) {
    await assert.rejects(loadKerasBackbone(BACKBONES[id], { weights: 'pretrained' }), /no pretrained weights ship offline; use 'imagenet' \(downloaded once\), a Keras \.h5 file or a TF\.js model directory/);
  }
});

test('imagenet with no way to the weights host: every backbone fails fast, naming the URL, the file, its hash and where to put it', async () => {
  const saved = { cache: process.env.CAPTION_CACHE, mirror: process.env.CAPTION_WEIGHTS_MIRROR };
  const cache = await tempRoot('imagenet-offline-');
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve())); // a port nothing listens on: never the real host
  process.env.CAPTION_CACHE = cache.dir;
  process.env.CAPTION_WEIGHTS_MIRROR = `http://127.0.0.1:${port}/keras`;
  try {
    const started = Date.now();
    await Promise.all(KERAS_IDS.map(async (id) => {
      const f = imagenetFile(BACKBONES[id]);
      const err = await loadKerasBackbone(BACKBONES[id], { weights: 'imagenet' }).then(() => undefined, (e: Error) => e);
      assert.ok(err, `${id}: loaded without weights`);
      const message = err.message;
      assert.ok(message.includes(f.url), `${id}: names the canonical URL: ${message}`);
      assert.ok(message.includes(path.join(cache.dir, f.file)), `${id}: names where to put the file: ${message}`);
      assert.ok(message.includes(f.md5 ?? 'Keras pins no hash for this file'), `${id}: names the hash: ${message}`);
    }));
    assert.ok(Date.now() - started < 30_000, `took ${Date.now() - started} ms`);
    assert.deepEqual(readdirSync(cache.dir).filter((f) => !f.endsWith('.lock')), [], 'nothing half-written in the cache');
  } finally {
    for (const [k, v] of [['CAPTION_CACHE', saved.cache], ['CAPTION_WEIGHTS_MIRROR', saved.mirror]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await cache.cleanup();
  }
});

test('weights: an unknown value or a missing path, and a missing cut layer, are errors', async () => {
  await assert.rejects(loadKerasBackbone(BACKBONES.vgg16, { weights: 'imagenet.h5' }), /'imagenet\.h5' is not 'imagenet', 'pretrained', 'random', or an existing Keras \.h5 file/);
  await assert.rejects(loadKerasBackbone(BACKBONES.efficientnet_b0, { weights: 'random', cutLayer: 'no_such_layer' }), /no layer 'no_such_layer' \(features\.cutLayer\)/);
});
