// The CenterNet graph-model backbone: the ONNX graph converted from the TF graph gives TF.js's features on real
// images (4 generated demo scenes, plus the first 4 Flickr8k images when CAPTION_SHARED is set), at the registry's
// shape; ops the converter lacks and nodes the graph lacks are refused by name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { initTf } from '@caption/core/tf';
import { BACKBONES } from '../../src/registry/index.ts';
import { decodeImage } from '../../src/decode.ts';
import { loadBackbone } from '../../src/load.ts';
import { onnxEngine, tfjsEngine } from '../../src/engines.ts';
import { OnnxExtractor } from '../../src/onnx/index.ts';
import { buildOnnxFromTfGraph } from '../../src/onnx/tf-graph-to-onnx.ts';
import type { GraphExtractor } from '../../src/weights/graph-model.ts';
import { writeDemoDataset } from '../../../ingest/src/demo/generate.ts';

let tmp: string;
let files: string[] = [];

before(async () => {
  await initTf('wasm');
  tmp = await mkdtemp(path.join(os.tmpdir(), 'centernet-'));
  await writeDemoDataset(tmp, { seed: 5, images: 4 });
  const demo = path.join(tmp, 'Flicker8k_Dataset');
  files = (await readdir(demo)).filter((f) => f.endsWith('.jpg')).sort().map((f) => path.join(demo, f));
  const shared = process.env.CAPTION_SHARED;
  if (shared) {
    const dir = path.join(shared, 'datasets', 'flickr8k', 'Flicker8k_Dataset');
    files.push(...(await readdir(dir)).filter((f) => f.endsWith('.jpg')).sort().slice(0, 4).map((f) => path.join(dir, f)));
  } else {
    console.warn('centernet.test: CAPTION_SHARED is not set: parity on the demo scenes only, no Flickr8k photos');
  }
});

after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('centernet: ONNX features equal TF.js features on real images, [64, 120] per image (16x16 pooled 2x2)', async (t) => {
  const loaded = await loadBackbone(BACKBONES.centernet);
  assert.deepEqual(loaded.backbone.shape, [64, 120]);
  assert.match(loaded.weightsHash, /^[0-9a-f]{64}$/);
  const S = loaded.backbone.inputSize;
  const n = files.length;
  const pixels = new Float32Array(n * S * S * 3);
  for (let i = 0; i < n; i++) pixels.set(await decodeImage(files[i], S), i * S * S * 3);
  // the converter itself, not a graph cached by an earlier run
  const extractor = loaded.extractor as GraphExtractor;
  const onnx = await OnnxExtractor.create(buildOnnxFromTfGraph(extractor.cut), { threads: 2 });
  const got = await onnx.run(pixels, n, S);
  await onnx.dispose();
  const ref = await tfjsEngine(loaded.extractor, loaded.backbone, 'wasm').run(pixels, n);
  const size = 64 * 120;
  assert.equal(got.length, n * size);
  assert.equal(ref.length, n * size);
  for (let i = 0; i < n; i++) {
    let diff = 0;
    let mag = 0;
    for (let k = i * size; k < (i + 1) * size; k++) {
      diff = Math.max(diff, Math.abs(got[k] - ref[k]));
      mag = Math.max(mag, Math.abs(ref[k]));
    }
    t.diagnostic(`${path.basename(files[i])}: max |diff| ${diff.toExponential(2)}, max |feature| ${mag.toFixed(2)}`);
    assert.ok(mag > 0.5, `${files[i]}: features are all near zero`);
    assert.ok(diff <= 1e-3 * Math.max(1, mag), `${files[i]}: ONNX differs from TF.js by ${diff}`);
  }
  // different images, different features
  let apart = 0;
  for (let k = 0; k < size; k++) apart = Math.max(apart, Math.abs(ref[k] - ref[size + k]));
  assert.ok(apart > 0.1);
});

test('centernet: a node whose ops the converter lacks, and a node the graph lacks, are refused by name', async () => {
  const head = await loadBackbone(BACKBONES.centernet, { cutLayer: 'tower_0/keypoints' });
  await assert.rejects(onnxEngine(head.extractor, head.backbone, head.weightsHash, 1), /op (ConcatV2|ResizeBilinear|DepthwiseConv2dNative|Sigmoid|Identity)|does not support/);
  await assert.rejects(loadBackbone(BACKBONES.centernet, { cutLayer: 'tower_0/no_such_node' }), /no node 'tower_0\/no_such_node'/);
  await assert.rejects(loadBackbone(BACKBONES.centernet, { weights: 'random' }), /only its packaged weights/);
});
