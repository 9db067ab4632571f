/**
 * Helpers for the in-code Keras architecture tests (not a test file): the nsfwjs pretrained models read straight
 * from the npm package (Keras 2.2.4 MobileNetV2 / InceptionV3 layers models), weights copied layer by layer in
 * topological order, old-Keras automatic names, and a model's weights in Keras' save_weights layout.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { tf } from '@caption/core/tf';
import { variableKey, weightedLayers } from '../../src/weights/assign.ts';
import type { H5LayerToWrite } from '../../src/weights/h5.ts';

/**
 * The whole nsfwjs model `dir` ('mobilenet_v2' | 'inception_v3') with its pretrained weights (classifier
 * head included), loaded from the package's model.min.js and base64 shard modules.
 */
export async function nsfwjsPretrained(dir: string): Promise<tf.LayersModel> {
  const require = createRequire(import.meta.url);
  const base = path.join(path.dirname(require.resolve('nsfwjs')), '..', 'models', dir);
  const json = require(path.join(base, 'model.min.js')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const data = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => Buffer.from(require(path.join(base, `${p}.min.js`)) as string, 'base64'))));
  return tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer,
  }));
}

/** `model` ending at layer `name`. */
export function upTo(model: tf.LayersModel, name: string): tf.LayersModel {
  return tf.model({ inputs: model.inputs, outputs: model.getLayer(name).output as tf.SymbolicTensor });
}

/**
 * Copy every weight of `from`'s weighted layers into `to`'s, paired in topological order (model.layers):
 * the layer classes and weight shapes must agree pair by pair. Returns the pairs [to, from] of layer names.
 */
export function copyByOrder(from: tf.LayersModel, to: tf.LayersModel): [string, string][] {
  const src = weightedLayers(from);
  const dst = weightedLayers(to);
  assert.equal(dst.length, src.length, 'weighted layer counts');
  return dst.map((d, i) => {
    const s = src[i];
    assert.equal(d.getClassName(), s.getClassName(), `#${i}: ${d.name} vs ${s.name}`);
    assert.deepEqual(d.weights.map(variableKey), s.weights.map(variableKey), `#${i}: ${d.name} vs ${s.name}`);
    assert.deepEqual(d.weights.map((w) => w.shape), s.weights.map((w) => w.shape), `#${i}: ${d.name} vs ${s.name}`);
    d.setWeights(s.getWeights());
    return [d.name, s.name];
  });
}

const AUTO = /^(conv2d|batch_normalization|activation|max_pooling2d|average_pooling2d|concatenate)(?:_(\d+))?$/;

/** A Keras 2.x automatic name as Keras 2.2.4 (and older) numbered it, from 1: conv2d -> conv2d_1, conv2d_5 -> conv2d_6. */
export function oldKerasName(name: string): string {
  const m = AUTO.exec(name);
  return m ? `${m[1]}_${Number(m[2] ?? 0) + 1}` : name;
}

/** What Keras' save_weights writes for `model`: every layer in model.layers order, weights '<layer>/<key>:0'. */
export function kerasLayers(model: tf.LayersModel): H5LayerToWrite[] {
  return model.layers.map((layer) => ({
    name: layer.name,
    weights: layer.weights.map((v) => ({
      name: `${layer.name}/${variableKey(v)}:0`,
      shape: v.shape as number[],
      data: Float32Array.from(v.read().dataSync() as Float32Array),
    })),
  }));
}
