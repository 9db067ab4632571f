import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { initTf, tf } from '@caption/core/tf';
import { CHECKPOINT_FORMAT, decodeCheckpoint, encodeCheckpoint } from '../src/checkpoint.ts';
import { createCaptionModel, type CaptionModelConfig } from '../src/registry.ts';
import { type Vocabulary } from '@caption/core';

const CONFIG: CaptionModelConfig = { decoder: 'attention-gru', featureShape: [5, 8], vocabSize: 7, embedDim: 6, units: 7 };
const VOCAB: Vocabulary = { tokens: ['<pad>', '<unk>', '<start>', '<end>', 'a', 'dog', 'café'], counts: [0, 0, 0, 0, 9, 4, 1] };

before(async () => {
  await initTf('wasm');
});

async function writeFiles(dir: string, files: Record<string, Uint8Array | string>) {
  for (const [name, bytes] of Object.entries(files)) await writeFile(path.join(dir, name), bytes);
}

test('checkpoint: encode -> files -> load gives identical weights, config, vocabulary and extra', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ckpt-'));
  try {
    const model = createCaptionModel(CONFIG, 123);
    // make every weight distinctive (biases start at zero)
    for (const [i, w] of Object.values(model.weights).entries()) w.assign(tf.tidy(() => tf.add(w, tf.scalar(0.001 * (i + 1)))));
    const extra = { backbone: 'mobilenet_v2', features: { dtype: 'float16' } };
    const files = await encodeCheckpoint({ model, vocabulary: VOCAB, extra });
    assert.deepEqual(Object.keys(files).sort(), ['model.json', 'vocabulary.json', 'weights.bin']);
    await writeFiles(dir, files);

    const modelJson = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8'));
    assert.equal(modelJson.format, CHECKPOINT_FORMAT);
    assert.deepEqual(modelJson.weightsManifest[0].paths, ['weights.bin']);
    const nValues = Object.values(model.weights).reduce((a, w) => a + w.size, 0);
    assert.equal((files['weights.bin'] as Uint8Array).byteLength, nValues * 4);

    const loaded = decodeCheckpoint(files, dir);
    assert.deepEqual(loaded.model.config, CONFIG);
    assert.deepEqual(loaded.vocabulary, VOCAB);
    assert.deepEqual(loaded.extra, extra);
    assert.deepEqual(Object.keys(loaded.model.weights), Object.keys(model.weights));
    for (const [name, w] of Object.entries(model.weights)) {
      const l = loaded.model.weights[name];
      assert.deepEqual(l.shape, w.shape, name);
      assert.deepEqual(Array.from(l.dataSync()), Array.from(w.dataSync()), name);
    }
    // the loaded model computes exactly what the original does
    tf.tidy(() => {
      const feats = tf.randomUniform([2, 5, 8], 0, 1, 'float32', 1) as tf.Tensor3D;
      const idx = tf.tensor1d([0, 1], 'int32');
      const inputs = tf.tensor2d([[2, 4, 5], [2, 6, 0]], [2, 3], 'int32');
      assert.deepEqual(
        Array.from(loaded.model.forward(feats, idx, inputs).dataSync()),
        Array.from(model.forward(feats, idx, inputs).dataSync()),
      );
    });
    // encoding is deterministic: re-encoding the loaded checkpoint gives the same bytes
    const again = await encodeCheckpoint(loaded);
    assert.equal(again['model.json'], files['model.json']);
    assert.equal(again['vocabulary.json'], files['vocabulary.json']);
    assert.deepEqual(again['weights.bin'], files['weights.bin']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('checkpoint: a manifest lacking a weight is refused by name', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ckpt-bad-'));
  try {
    const files = await encodeCheckpoint({ model: createCaptionModel(CONFIG, 1), vocabulary: VOCAB, extra: {} });
    const mj = JSON.parse(files['model.json'] as string);
    const specs = mj.weightsManifest[0].weights as { name: string; shape: number[] }[];
    const dropped = specs.findIndex((s) => s.name === 'fc2/bias');
    assert.ok(dropped >= 0);
    // drop the spec and its bytes (it is the last weight or not: rebuild the bin without it)
    const sizes = specs.map((s) => s.shape.reduce((a, b) => a * b, 1) * 4);
    const offset = sizes.slice(0, dropped).reduce((a, b) => a + b, 0);
    const bin = files['weights.bin'] as Uint8Array;
    const trimmed = new Uint8Array(bin.byteLength - sizes[dropped]);
    trimmed.set(bin.subarray(0, offset));
    trimmed.set(bin.subarray(offset + sizes[dropped]), offset);
    specs.splice(dropped, 1);
    await writeFiles(dir, { ...files, 'model.json': JSON.stringify(mj), 'weights.bin': trimmed });
    assert.throws(() => decodeCheckpoint({ ...files, 'model.json': JSON.stringify(mj), 'weights.bin': trimmed }, dir), /lacks weight fc2\/bias/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
