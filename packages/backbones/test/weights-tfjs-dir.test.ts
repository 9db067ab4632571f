/**
 * TF.js LayersModel directories (model.json + binary weight shards) written here by hand from
 * `model.save(withSaveHandler)` artifacts, loaded through `loadKerasBackbone(..., { weights: dir })`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { initTf, tf } from '@caption/core/tf';
import { BACKBONES } from '../src/registry/index.ts';
import { onnxEngine } from '../src/engines.ts';
import { loadKerasBackbone } from '../src/load.ts';
import { fileSystemHandler } from '../src/weights/tfjs-dir.ts';
import { demoImages, diffPerRow, pixels, predict, tempRoot } from './helpers/fixtures.ts';

let root: Awaited<ReturnType<typeof tempRoot>>;
let files: string[];

before(async () => {
  await initTf('wasm');
  root = await tempRoot('weights-tfjs-');
  files = await demoImages(root.dir, 2);
});
after(async () => root?.cleanup());

/** Save `model` as model.json + `shards` weight files (the tensorflowjs_converter layout). */
async function saveDir(model: tf.LayersModel, dir: string, shards = 2, edit: (topology: Record<string, unknown>) => void = () => undefined): Promise<void> {
  let art: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => ((art = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
  const data = Buffer.from(art!.weightData as ArrayBuffer);
  const size = Math.ceil(data.length / shards / 4) * 4;
  const paths = Array.from({ length: shards }, (_, i) => `group1-shard${i + 1}of${shards}.bin`);
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < shards; i++) await writeFile(path.join(dir, paths[i]), data.subarray(i * size, (i + 1) * size));
  const topology = art!.modelTopology as Record<string, unknown>;
  edit(topology);
  await writeFile(path.join(dir, 'model.json'), JSON.stringify({
    format: 'layers-model', generatedBy: 'test', convertedBy: null, modelTopology: topology,
    weightsManifest: [{ paths, weights: art!.weightSpecs }],
  }));
}

/**
 * A small stand-in for a MobileNetV2 export: 224 -> ... -> out_relu [7, 7, 1280] -> a classifier head.
 * (No strided 'same' convolution whose TF padding would be negative, e.g. 3x3 stride 4 on 224: TF.js'
 * wasm backend computes those wrongly; the cpu backend and ONNX agree.)
 */
function smallModel(): tf.LayersModel {
  const input = tf.input({ shape: [224, 224, 3], name: 'input_1' });
  const layers: tf.layers.Layer[] = [
    tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'conv1', biasInitializer: 'randomNormal' }),
    tf.layers.batchNormalization({ name: 'bn1', gammaInitializer: 'ones', betaInitializer: 'randomNormal' }),
    tf.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }),
    tf.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'conv2' }),
    tf.layers.averagePooling2d({ poolSize: 2, name: 'pool2' }),
    tf.layers.conv2d({ filters: 1280, kernelSize: 3, strides: 2, padding: 'same', name: 'out_conv' }),
    tf.layers.reLU({ maxValue: 6, name: 'out_relu' }),
    tf.layers.globalAveragePooling2d({ name: 'global_pool' }),
    tf.layers.dense({ units: 5, activation: 'softmax', name: 'predictions' }),
  ];
  let x: tf.SymbolicTensor = input;
  for (const l of layers) x = l.apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x });
}

test('TF.js model directory: model.json + 2 weight shards -> cut at out_relu (not the head), same activations, both engines', async (t) => {
  const model = smallModel();
  const dir = path.join(root.dir, 'small-model');
  await saveDir(model, dir);
  const loaded = await loadKerasBackbone(BACKBONES.mobilenet_v2, { weights: dir });
  assert.equal(loaded.backbone.cutLayer, 'out_relu');
  assert.deepEqual(loaded.backbone.shape, [49, 1280]);
  assert.equal(loaded.weightsNote, 'TF.js layers model small-model');
  assert.equal(loaded.extractor.outputs[0].shape.join(), ',7,7,1280');
  assert.ok(!loaded.extractor.layers.some((l) => l.name === 'predictions'), 'the head is cut off');

  const px = await pixels(files, 224);
  // a directory model is a Keras MobileNetV2: the loader puts Keras' preprocess_input (2x - 1) in front of it
  assert.equal(loaded.extractor.layers[1].name, 'pipeline_input');
  const keras = Float32Array.from(px, (v) => v * 2 - 1);
  const reference = tf.model({ inputs: model.inputs, outputs: model.getLayer('out_relu').output as tf.SymbolicTensor });
  assert.deepEqual(predict(loaded.extractor, px, 2, 224), predict(reference, keras, 2, 224));
  const onnx = await onnxEngine(loaded.extractor, loaded.backbone, loaded.weightsHash);
  const d = diffPerRow(await onnx.run(px, 2), predict(reference, keras, 2, 224), 2);
  onnx.dispose();
  t.diagnostic(`onnx vs tfjs: ${d.map((x) => x.rel.toExponential(1)).join(', ')}`);
  assert.ok(d.every((x) => x.maxRef > 0 && x.rel <= 1e-4));

  // the handler saves too: the extractor written back out loads again, same features
  const resaved = path.join(root.dir, 'resaved');
  await loaded.extractor.save(fileSystemHandler(resaved));
  const again = await loadKerasBackbone(BACKBONES.mobilenet_v2, { weights: resaved });
  assert.deepEqual(predict(again.extractor, px, 2, 224), predict(reference, keras, 2, 224));

  // model.json given directly, and a cut layer override
  const early = await loadKerasBackbone(BACKBONES.mobilenet_v2, { weights: path.join(dir, 'model.json'), cutLayer: 'conv2' });
  assert.deepEqual(early.backbone, { ...BACKBONES.mobilenet_v2, cutLayer: 'conv2', shape: [28 * 28, 16] });
  assert.equal(early.weightsHash, loaded.weightsHash, 'same weights, same hash (the cut is keyed separately)');
});

test('a Keras EfficientNetB0 export (no pipeline_input, dynamic input size): the transform is inserted, input fixed to 299', async () => {
  const src = await loadKerasBackbone(BACKBONES.efficientnet_b0, { weights: 'random', seed: 9 });
  const dir = path.join(root.dir, 'effnet-export');
  // what tensorflowjs_converter gives for keras.applications.EfficientNetB0(include_top=False, input_shape=(None, None, 3))
  await saveDir(src.extractor, dir, 3, (topology) => {
    const config = topology.config as { layers: { name: string; class_name: string; config: Record<string, unknown>; inbound_nodes: unknown[] }[] };
    config.layers = config.layers.filter((l) => l.name !== 'pipeline_input');
    const input = config.layers.find((l) => l.class_name === 'InputLayer')!;
    input.config.batch_input_shape = [null, null, null, 3];
    const rescaling = config.layers.find((l) => l.name === 'rescaling')!;
    rescaling.inbound_nodes = [[['input_1', 0, 0, {}]]];
  });
  const loaded = await loadKerasBackbone(BACKBONES.efficientnet_b0, { weights: dir });
  const names = loaded.extractor.layers.map((l) => l.name);
  assert.deepEqual(names.slice(0, 4), ['input_1', 'pipeline_input', 'rescaling', 'normalization']);
  assert.equal(loaded.extractor.inputs[0].shape.join(), ',299,299,3');
  const px = await pixels(files, 299);
  assert.deepEqual(predict(loaded.extractor, px, 2, 299), predict(src.extractor, px, 2, 299));
  // saved with the transform already in: not inserted twice
  const dir2 = path.join(root.dir, 'effnet-with-transform');
  await saveDir(src.extractor, dir2, 1);
  const again = await loadKerasBackbone(BACKBONES.efficientnet_b0, { weights: dir2 });
  assert.equal(again.extractor.layers.filter((l) => l.getClassName() === 'ChannelAffine').length, 1);
});

test('TF.js model directory errors: no model.json, another input size, no such cut layer', async () => {
  const empty = path.join(root.dir, 'empty-dir');
  await mkdir(empty, { recursive: true });
  await assert.rejects(loadKerasBackbone(BACKBONES.mobilenet_v2, { weights: empty }), /has no model\.json \(expected a TF\.js LayersModel directory\)/);
  const dir = path.join(root.dir, 'small-model');
  await assert.rejects(loadKerasBackbone(BACKBONES.inception_v3, { weights: dir }), /the model takes 224x224 images; this backbone feeds 299x299/);
  await assert.rejects(loadKerasBackbone(BACKBONES.mobilenet_v2, { weights: dir, cutLayer: 'mixed10' }), /mobilenet_v2: the network has no layer 'mixed10' \(features\.cutLayer\)/);
  const wrongShape = smallModel();
  const dir3 = path.join(root.dir, 'vgg-shaped');
  await saveDir(wrongShape, dir3);
  await assert.rejects(loadKerasBackbone(BACKBONES.vgg16, { weights: dir3 }), /vgg16: the network has no layer 'fc2'/);
});
