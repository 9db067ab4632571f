// ONNX vs TF.js parity on the real pretrained backbones (nsfwjs MobileNetV2, InceptionV3, pooled InceptionV3), on real
// images: 4 generated demo scenes, plus the first 4 Flickr8k images when CAPTION_SHARED is set.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { initTf, tf } from '@caption/core/tf';
import { BACKBONES, type Backbone } from '../../src/registry/index.ts';
import { decodeImage } from '../../src/decode.ts';
import { loadKerasBackbone } from '../../src/load.ts';
import { buildOnnxGraph, OnnxExtractor } from '../../src/onnx/index.ts';
import { writeDemoDataset } from '../../../ingest/src/demo/generate.ts';

const TOL = 1e-3;
let tmp: string;
let images: { label: string; file: string }[] = [];

before(async () => {
  await initTf('wasm');
  tmp = await mkdtemp(path.join(os.tmpdir(), 'onnx-parity-'));
  await writeDemoDataset(tmp, { seed: 3, images: 4 });
  const demoDir = path.join(tmp, 'Flicker8k_Dataset');
  images = (await readdir(demoDir)).filter((f) => f.endsWith('.jpg')).sort().map((f) => ({ label: `demo/${f}`, file: path.join(demoDir, f) }));
  assert.equal(images.length, 4);
  const shared = process.env.CAPTION_SHARED;
  if (shared) {
    const dir = path.join(shared, 'datasets', 'flickr8k', 'Flicker8k_Dataset');
    const names = (await readdir(dir)).filter((f) => f.endsWith('.jpg')).sort().slice(0, 4);
    assert.equal(names.length, 4, `expected Flickr8k images in ${dir}`);
    images.push(...names.map((f) => ({ label: `flickr8k/${f}`, file: path.join(dir, f) })));
  }
});

after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function parity(t: { diagnostic(msg: string): void }, entry: Backbone): Promise<void> {
  const { extractor, backbone } = await loadKerasBackbone(entry, { weights: 'pretrained' });
  const S = backbone.inputSize;
  const [L, D] = backbone.shape;
  const n = images.length;
  const pixels = new Float32Array(n * S * S * 3);
  for (let i = 0; i < n; i++) pixels.set(await decodeImage(images[i].file, S), i * S * S * 3);

  const onnx = await OnnxExtractor.create(buildOnnxGraph(extractor, backbone.cutLayer));
  const got = await onnx.run(pixels, n, S);
  await onnx.dispose();
  const refT = tf.tidy(() => extractor.predict(tf.tensor4d(pixels, [n, S, S, 3])) as tf.Tensor);
  assert.deepEqual(refT.shape, L === 1 ? [n, D] : [n, Math.sqrt(L), Math.sqrt(L), D]);
  const ref = (await refT.data()) as Float32Array;
  refT.dispose();
  assert.equal(got.length, n * L * D);

  let worst = 0;
  for (let i = 0; i < n; i++) {
    let d = 0;
    let mag = 0;
    let nonzero = 0;
    for (let k = i * L * D; k < (i + 1) * L * D; k++) {
      d = Math.max(d, Math.abs(got[k] - ref[k]));
      mag = Math.max(mag, Math.abs(ref[k]));
      if (ref[k] !== 0) nonzero++;
    }
    assert.ok(Number.isFinite(d), `${images[i].label}: non-finite output`);
    // ReLU feature maps are sparse, but never empty for a real image
    assert.ok(nonzero >= Math.min(100, D / 4), `${images[i].label}: only ${nonzero} nonzero reference features`);
    t.diagnostic(`${backbone.id} ${images[i].label}: max |diff| ${d.toExponential(2)} (max |feature| ${mag.toFixed(3)}, nonzero ${(nonzero / (L * D) * 100).toFixed(1)}%)`);
    worst = Math.max(worst, d);
  }
  t.diagnostic(`${backbone.id}: max |diff| over ${n} images ${worst.toExponential(2)}`);
  assert.ok(worst <= TOL, `${backbone.id}: max |diff| ${worst} > ${TOL}`);
}

test('MobileNetV2 (out_relu): ONNX Runtime matches TF.js', async (t) => {
  await parity(t, BACKBONES.mobilenet_v2);
});

test('InceptionV3 (mixed10): ONNX Runtime matches TF.js', async (t) => {
  await parity(t, BACKBONES.inception_v3);
});

test('InceptionV3 pooled (mixed10 -> global average pool, [1, 2048]): ONNX Runtime matches TF.js', async (t) => {
  await parity(t, BACKBONES.inception_v3_pooled);
});
