/**
 * The nsfwjs models behind `features.weights: pretrained` (and `random` for the backbones nsfwjs has): their
 * Keras layers topology and weight shards, base64 JS modules inside the npm package.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { sha256 } from '@caption/core';
import { tf } from '@caption/core/tf';
import type { Backbone } from '../registry/index.ts';
import { randomWeight } from './random.ts';
import { prepareTopology } from './tfjs-dir.ts';

/**
 * The nsfwjs model (topology + weight shards from the npm package): its own weights or seeded random ones.
 */
export async function nsfwjsModel(backbone: Backbone, weights: 'pretrained' | 'random', seed: number): Promise<{ model: tf.LayersModel; weightsHash: string }> {
  if (!backbone.nsfwjs) throw new Error(`${backbone.id}: no nsfwjs model`);
  const require = createRequire(import.meta.url);
  // `nsfwjs` resolves to dist/cjs/index.js; the model modules sit in dist/models/<name>/.
  const dir = path.join(path.dirname(require.resolve('nsfwjs')), '..', 'models', backbone.nsfwjs.dir);
  const modelJson = require(path.join(dir, 'model.min.js')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const modelTopology = prepareTopology(modelJson.modelTopology, backbone.inputSize);
  let weightSpecs = modelJson.weightsManifest.flatMap((g) => g.weights);
  let weightData: Buffer;
  let weightsHash: string;
  if (weights === 'pretrained') {
    const shards = modelJson.weightsManifest.flatMap((g) =>
      g.paths.map((p) => Buffer.from(require(path.join(dir, `${p}.min.js`)) as string, 'base64')),
    );
    weightData = Buffer.concat(shards);
    weightsHash = sha256(Buffer.concat([Buffer.from(JSON.stringify(modelJson.modelTopology)), weightData]));
  } else {
    weightSpecs = weightSpecs.map(({ name, shape }) => ({ name, shape, dtype: 'float32' as const }));
    const sizes = weightSpecs.map((s) => s.shape.reduce((a, b) => a * b, 1));
    const all = new Float32Array(sizes.reduce((a, b) => a + b, 0));
    let at = 0;
    weightSpecs.forEach((s, i) => {
      const parts = s.name.split('/');
      all.set(randomWeight(seed, parts.slice(0, -1).join('/'), parts[parts.length - 1], s.shape), at);
      at += sizes[i];
    });
    weightData = Buffer.from(all.buffer);
    weightsHash = createHash('sha256').update(`${backbone.nsfwjs.dir} ${weights} seed ${seed}\n`).update(JSON.stringify(modelTopology)).update(weightData).digest('hex');
  }
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology,
      weightSpecs,
      weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength) as ArrayBuffer,
    }),
  );
  return { model, weightsHash };
}

