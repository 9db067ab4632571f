/**
 * Keras .h5 weights: files written here with h5wasm in the Keras 2 `save_weights` layout (root attrs
 * layer_names/backend/keras_version, a group per layer with attr weight_names, datasets
 * '<layer>/<layer>/kernel:0'; Keras 1 '<layer>_W_1:0' names for the VGG16 download), loaded through
 * `loadKerasBackbone(..., { weights: file })` into a freshly built network.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { initTf, tf } from '@caption/core/tf';
import { BACKBONES } from '../src/registry/index.ts';
import { loadKerasBackbone } from '../src/load.ts';
import { variableKey } from '../src/weights/assign.ts';
import { openKerasH5, writeKerasH5, type H5LayerToWrite } from '../src/weights/h5.ts';
import { assertSameWeights, demoImages, pixels, predict, tempRoot } from './helpers/fixtures.ts';

let root: Awaited<ReturnType<typeof tempRoot>>;
let files: string[];

before(async () => {
  await initTf('wasm');
  root = await tempRoot('weights-h5-');
  files = await demoImages(root.dir, 2);
});
after(async () => root?.cleanup());

/** The Keras save_weights content of a model: every layer, weights named '<layer>/<key>:0'. */
function kerasLayers(model: tf.LayersModel, legacyNames = false): H5LayerToWrite[] {
  return model.layers.map((layer) => ({
    name: layer.name,
    weights: layer.weights.map((v) => {
      const key = variableKey(v);
      const data = v.read().dataSync() as Float32Array;
      const name = legacyNames ? `${layer.name}_${{ kernel: 'W', bias: 'b' }[key] ?? key}_1:0` : `${layer.name}/${key}:0`;
      // Keras keeps Normalization's sample count as int64
      return { name, shape: v.shape as number[], data: key === 'count' ? BigInt64Array.from(data, (x) => BigInt(x)) : Float32Array.from(data) };
    }),
  }));
}

test('efficientnet_b0: random network -> Keras-layout .h5 -> fresh network: identical weights and outputs', async (t) => {
  const src = await loadKerasBackbone(BACKBONES.efficientnet_b0, { weights: 'random', seed: 7 });
  const file = path.join(root.dir, 'efficientnetb0_notop.h5');
  const layers = kerasLayers(src.extractor).filter((l) => l.name !== 'pipeline_input'); // ours, not Keras'
  await writeKerasH5(file, layers);

  const h5 = await openKerasH5(file);
  assert.deepEqual(h5.layerNames, layers.map((l) => l.name));
  assert.deepEqual(h5.layers.get('block1a_dwconv')!.map((w) => [w.name, w.shape]), [['block1a_dwconv/depthwise_kernel:0', [3, 3, 32, 1]]]);
  assert.deepEqual(h5.layers.get('normalization')!.map((w) => [w.name, w.dtype]), [['normalization/mean:0', '<f'], ['normalization/variance:0', '<f'], ['normalization/count:0', '<q']]);
  assert.deepEqual(h5.layers.get('input_1'), []);
  h5.close();

  const loaded = await loadKerasBackbone(BACKBONES.efficientnet_b0, { weights: file });
  assert.match(loaded.weightsNote, /^Keras h5 weights efficientnetb0_notop\.h5 \(\d+ layers, keras 2\.13\.1\)$/);
  const n = assertSameWeights(src.extractor, loaded.extractor);
  t.diagnostic(`${n.toLocaleString('en')} weights identical`);
  assert.equal(loaded.weightsHash, src.weightsHash, 'same network and weights -> same hash');
  const px = await pixels(files, 299);
  const a = predict(src.extractor, px, 2, 299);
  const b = predict(loaded.extractor, px, 2, 299);
  assert.ok(Buffer.from(a.buffer).equals(Buffer.from(b.buffer)), 'outputs identical');
  assert.notEqual((await loadKerasBackbone(BACKBONES.efficientnet_b0, { weights: 'random', seed: 8 })).weightsHash, src.weightsHash);
});

test('vgg16: Keras 1 weight names (block1_conv1_W_1:0), extra layers ignored, cut at block2_pool', async () => {
  const cut = 'block2_pool';
  const src = await loadKerasBackbone(BACKBONES.vgg16, { weights: 'random', seed: 3, cutLayer: cut });
  const file = path.join(root.dir, 'vgg16_weights_tf_dim_ordering_tf_kernels.h5');
  const layers = kerasLayers(src.extractor, true).filter((l) => l.name !== 'pipeline_input');
  // a layer the network does not have (the classifier) is ignored
  layers.push({ name: 'predictions', weights: [{ name: 'predictions_W_1:0', shape: [4, 2], data: new Float32Array(8) }] });
  await writeKerasH5(file, layers, { kerasVersion: '1.1.0' });
  const h5 = await openKerasH5(file);
  assert.deepEqual(h5.layers.get('block1_conv1')!.map((w) => w.name), ['block1_conv1_W_1:0', 'block1_conv1_b_1:0']);
  h5.close();
  const loaded = await loadKerasBackbone(BACKBONES.vgg16, { weights: file, cutLayer: cut });
  assert.deepEqual(loaded.backbone.shape, [56 * 56, 128]);
  assertSameWeights(src.extractor, loaded.extractor);
  const px = await pixels(files, 224);
  assert.deepEqual(predict(loaded.extractor, px, 2, 224), predict(src.extractor, px, 2, 224));
});

test('.h5 missing a layer the network needs: an error naming it', async () => {
  const src = await loadKerasBackbone(BACKBONES.efficientnet_b0, { weights: 'random', seed: 1 });
  const file = path.join(root.dir, 'missing.h5');
  await writeKerasH5(file, kerasLayers(src.extractor).filter((l) => l.name !== 'block6b_se_reduce' && l.name !== 'pipeline_input'));
  await assert.rejects(loadKerasBackbone(BACKBONES.efficientnet_b0, { weights: file }), (err: Error) => {
    assert.match(err.message, /missing\.h5: does not fit efficientnet_b0/);
    assert.match(err.message, /no weights for layer 'block6b_se_reduce' that the efficientnet_b0 \(up to 'top_activation'\) network needs/);
    return true;
  });
  // ... unless the cut comes before it
  const early = await loadKerasBackbone(BACKBONES.efficientnet_b0, { weights: file, cutLayer: 'block5c_add' });
  assert.deepEqual(early.backbone.shape, [19 * 19, 112]);
});

test('.h5 with a wrong shape: an error naming the layer, the weight and both shapes', async () => {
  const src = await loadKerasBackbone(BACKBONES.efficientnet_b0, { weights: 'random', seed: 1 });
  const layers = kerasLayers(src.extractor).filter((l) => l.name !== 'pipeline_input');
  const bad = layers.find((l) => l.name === 'top_conv')!;
  bad.weights[0] = { name: 'top_conv/kernel:0', shape: [1, 1, 320, 1000], data: new Float32Array(320 * 1000) };
  const file = path.join(root.dir, 'wrong-shape.h5');
  await writeKerasH5(file, layers);
  await assert.rejects(
    loadKerasBackbone(BACKBONES.efficientnet_b0, { weights: file }),
    /wrong-shape\.h5: does not fit efficientnet_b0.*layer 'top_conv' weight 'top_conv\/kernel:0' has shape \[1, 1, 320, 1000\]; the network needs kernel \[1, 1, 320, 1280\]/,
  );
  // a BatchNormalization layer given a Dense layer's weights
  const swapped = kerasLayers(src.extractor).filter((l) => l.name !== 'pipeline_input');
  swapped.find((l) => l.name === 'stem_bn')!.weights = [
    { name: 'stem_bn/kernel:0', shape: [32], data: new Float32Array(32) },
    { name: 'stem_bn/bias:0', shape: [32], data: new Float32Array(32) },
  ];
  await writeKerasH5(path.join(root.dir, 'swapped.h5'), swapped);
  await assert.rejects(loadKerasBackbone(BACKBONES.efficientnet_b0, { weights: path.join(root.dir, 'swapped.h5') }),
    /layer 'stem_bn' \(BatchNormalization\) has weights \[stem_bn\/kernel:0, stem_bn\/bias:0\] in the file; the network needs \[gamma, beta, moving_mean, moving_variance\]/);
});

test('not a Keras weights file: clear errors', async () => {
  const plain = path.join(root.dir, 'plain.h5');
  const lib = await import('h5wasm/node');
  await lib.ready;
  const f = new lib.File(plain, 'w');
  f.create_dataset({ name: 'x', data: new Float32Array([1]) });
  f.close();
  await assert.rejects(loadKerasBackbone(BACKBONES.vgg16, { weights: plain }), /plain\.h5: not a Keras weights file \(no 'layer_names' attribute/);
  const text = path.join(root.dir, 'weights.txt');
  await writeFile(text, 'hello');
  await assert.rejects(loadKerasBackbone(BACKBONES.vgg16, { weights: text }), /is neither an HDF5 \(\.h5\) file nor a TF\.js model directory/);
});
