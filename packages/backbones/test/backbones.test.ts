/**
 * The backbone registry through loadBackbone and both engines, with seeded random weights, on 2 real
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
import assert from 'node:assert/strict';
import { initTf } from '@caption/core/tf';
import { BACKBONES, BACKBONE_IDS, type Backbone } from '../src/registry/index.ts';
import { onnxEngine, tfjsEngine } from '../src/engines.ts';
import { loadBackbone } from '../src/load.ts';
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
  const { extractor, weightsHash, weightsNote, backbone } = await loadBackbone(BACKBONES[id], { weights: 'random', seed: 42, ...opts });
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
    return [id, [b.inputSize, b.cutLayer, b.shape, b.pretrained === true]];
  }));
  assert.deepEqual(table, {
    mobilenet_v2: [224, 'out_relu', [49, 1280], true],
    inception_v3: [299, 'mixed10', [64, 2048], true],
    inception_v3_pooled: [299, 'mixed10_avg_pool', [1, 2048], true],
    efficientnet_b0: [299, 'top_activation', [100, 1280], false],
    vgg16: [224, 'fc2', [1, 4096], false],
  });
  assert.match(BACKBONES.vgg16.preprocessing, /BGR/);
  assert.match(BACKBONES.efficientnet_b0.preprocessing, /Normalization/);
  assert.match(BACKBONES.inception_v3.preprocessing, /x\/255/);
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
  const full = await loadBackbone(BACKBONES.inception_v3, { weights: 'random', seed: 42 });
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
    await assert.rejects(loadBackbone(BACKBONES[id], { weights: 'pretrained' }), /no pretrained weights ship offline; pass a Keras \.h5 file or a TF\.js model directory/);
  }
});

test('weights: an unknown value or a missing path, and a missing cut layer, are errors', async () => {
  await assert.rejects(loadBackbone(BACKBONES.vgg16, { weights: 'imagenet' }), /'imagenet' is not 'pretrained', 'random', or an existing Keras \.h5 file/);
  await assert.rejects(loadBackbone(BACKBONES.efficientnet_b0, { weights: 'random', cutLayer: 'no_such_layer' }), /no layer 'no_such_layer' \(features\.cutLayer\)/);
});
