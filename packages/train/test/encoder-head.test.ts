// train.encoderHead: MobileNetV2's blocks after the features' cut, with the backbone's weights (batch norm folded),
// give the backbone's own features at the later layer; the head trains on wasm (gradients through depthwise and
// 1x1 convolutions) and survives the checkpoint codec; configurations it cannot serve are refused by name.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { initTf, tf } from '@caption/core/tf';
import { BACKBONES, decodeImage, loadKerasBackbone, tfjsEngine } from '@caption/backbones';
import { applyEncoderHead, createCaptionModel, decodeCheckpoint, encodeCheckpoint, encoderHeadOutput, maskedCrossEntropy, type CaptionModelConfig } from '@caption/model';
import { loadEncoderHead, type FeaturesRecord } from '../src/encoder-head.ts';
import { writeDemoDataset } from '../../ingest/src/demo/generate.ts';
import os from 'node:os';

const FROM = 'block_10_project_BN';
const TO = 'block_14_expand_relu';
let pixels: Float32Array;
let record: FeaturesRecord;
const N = 3;

before(async () => {
  await initTf('wasm');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'encoder-head-'));
  await writeDemoDataset(dir, { seed: 11, images: N });
  const images = path.join(dir, 'Flicker8k_Dataset');
  const files = readdirSync(images).filter((f) => f.endsWith('.jpg')).sort().map((f) => path.join(images, f));
  pixels = new Float32Array(N * 224 * 224 * 3);
  for (let i = 0; i < N; i++) pixels.set(await decodeImage(files[i], 224), i * 224 * 224 * 3);
  const atCut = await loadKerasBackbone(BACKBONES.mobilenet_v2, { cutLayer: FROM });
  record = { extra: { backbone: 'mobilenet_v2', cut_layer: FROM, weights_sha256: atCut.weightsHash, shape: atCut.backbone.shape }, params: { weights: 'pretrained' } };
});

async function featuresAt(cutLayer: string): Promise<tf.Tensor3D> {
  const loaded = await loadKerasBackbone(BACKBONES.mobilenet_v2, { cutLayer });
  const [L, D] = loaded.backbone.shape;
  return tf.tensor3d(await tfjsEngine(loaded.extractor, loaded.backbone, 'wasm').run(pixels, N), [N, L, D]);
}

test('the head on block_10 features gives the backbone block_14_expand_relu features', async (t) => {
  const head = await loadEncoderHead(TO, record, 0);
  assert.deepEqual(head.config.blocks.map((b) => [b.name, b.expand, b.stride, b.filters]),
    [['block_11', 576, 1, 96], ['block_12', 576, 1, 96], ['block_13', 576, 2, 160], ['block_14', 960, 1, undefined]]);
  assert.deepEqual(encoderHeadOutput(head.config), [49, 960]);
  const input = await featuresAt(FROM);
  const want = await featuresAt(TO);
  const weights = Object.fromEntries(Object.entries(head.values).map(([k, v]) => [k, tf.variable(v)]));
  const got = applyEncoderHead(weights, head.config, input);
  assert.deepEqual(got.shape, want.shape);
  const diff = tf.max(tf.abs(tf.sub(got, want))).dataSync()[0];
  const scale = tf.max(want).dataSync()[0];
  t.diagnostic(`max |head - backbone| ${diff.toExponential(2)}, features up to ${scale.toFixed(2)}`);
  assert.ok(scale > 1, 'real features');
  assert.ok(diff < 1e-3 * scale, `head differs from the backbone by ${diff} (features up to ${scale})`);
});

test('the head trains with the decoder on wasm, and the checkpoint keeps it', async () => {
  const head = await loadEncoderHead(TO, record, 0);
  const config: CaptionModelConfig = { decoder: 'transformer', featureShape: [196, 96], vocabSize: 12, embedDim: 16, units: 16, heads: 1, maxLength: 8, encoderHead: head.config };
  const model = createCaptionModel(config, 3);
  for (const [k, v] of Object.entries(head.values)) model.weights[k].assign(v);
  const features = await featuresAt(FROM);
  const inputs = tf.tensor2d([[1, 4, 5, 6], [1, 7, 8, 2], [1, 9, 2, 0]], [3, 4], 'int32');
  const targets = tf.tensor2d([[4, 5, 6, 2], [7, 8, 2, 0], [9, 2, 0, 0]], [3, 4], 'int32');
  const index = tf.tensor1d([0, 1, 2], 'int32');
  const optimizer = tf.train.adam(0.01);
  const loss = () => maskedCrossEntropy(model.forward(features, index, inputs), targets) as tf.Scalar;
  const before = tf.tidy(() => loss().dataSync()[0]);
  const kernel = model.weights['head/block_13/depthwise/kernel'].clone();
  const tensors = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) tf.dispose(optimizer.minimize(loss, true, Object.values(model.weights)) ?? []);
  assert.ok(tf.memory().numTensors <= tensors + 2 * Object.keys(model.weights).length + 2, 'no leak beyond the optimizer slots');
  const after = tf.tidy(() => loss().dataSync()[0]);
  assert.ok(after < before, `loss ${before} -> ${after}`);
  assert.ok(tf.max(tf.abs(tf.sub(kernel, model.weights['head/block_13/depthwise/kernel']))).dataSync()[0] > 0, 'the depthwise kernel trained');

  const files = await encodeCheckpoint({ model, vocabulary: { tokens: [] } as never, extra: {} });
  const back = decodeCheckpoint(files, 'memory');
  const a = tf.tidy(() => model.forward(features, index, inputs).dataSync());
  const b = tf.tidy(() => back.model.forward(features, index, inputs).dataSync());
  assert.deepEqual(b, a);
});

test('encoderHeadLrScale: the same head, whose first Adam step moves its weights lrScale times the decoder\'s', async () => {
  const scale = 0.25;
  const head = await loadEncoderHead(TO, record, 0, scale);
  const plain = await loadEncoderHead(TO, record, 0);
  assert.equal(head.config.lrScale, scale);
  const input = await featuresAt(FROM);
  const vars = (h: typeof head) => Object.fromEntries(Object.entries(h.values).map(([k, v]) => [k, tf.variable(v)]));
  const a = applyEncoderHead(vars(head), head.config, input);
  const b = applyEncoderHead(vars(plain), plain.config, input);
  assert.ok(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] < 1e-4, 'the same features');

  const config: CaptionModelConfig = { decoder: 'transformer', featureShape: [196, 96], vocabSize: 12, embedDim: 16, units: 16, heads: 1, maxLength: 8, encoderHead: head.config };
  const model = createCaptionModel(config, 3);
  for (const [k, v] of Object.entries(head.values)) model.weights[k].assign(v);
  const effective = () => tf.mul(model.weights['head/block_12/project/kernel'], scale);
  const decoderWeight = () => model.weights[Object.keys(model.weights).find((k) => !k.startsWith('head/'))!].clone();
  const [w0, d0] = [effective(), decoderWeight()];
  const inputs = tf.tensor2d([[1, 4, 5, 6]], [1, 4], 'int32');
  const lr = 0.001;
  tf.train.adam(lr).minimize(() => maskedCrossEntropy(model.forward(input.slice([0, 0, 0], [1, 196, 96]), tf.tensor1d([0], 'int32'), inputs), inputs) as tf.Scalar);
  const moved = tf.max(tf.abs(tf.sub(effective(), w0))).dataSync()[0];
  const movedDecoder = tf.max(tf.abs(tf.sub(decoderWeight(), d0))).dataSync()[0];
  assert.ok(Math.abs(movedDecoder - lr) < lr * 0.01, `decoder weights move by lr (${movedDecoder})`);
  assert.ok(Math.abs(moved - lr * scale) < lr * scale * 0.01, `head weights move by lr x ${scale} (${moved})`);
});

test('configurations the head cannot serve are refused, naming what is wrong', async () => {
  await assert.rejects(loadEncoderHead('block_9_add', record, 0), /n > 10/);
  await assert.rejects(loadEncoderHead(TO, { ...record, extra: { ...record.extra, cut_layer: 'block_10_expand_relu' } }, 0), /cut at a block's output/);
  await assert.rejects(loadEncoderHead(TO, { ...record, extra: { ...record.extra, backbone: 'centernet' } }, 0), /only mobilenet_v2/);
  await assert.rejects(loadEncoderHead(TO, { ...record, extra: { ...record.extra, weights_sha256: 'f'.repeat(64) } }, 0), /hash to/);
});
