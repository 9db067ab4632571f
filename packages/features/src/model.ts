/**
 * Loading a backbone from the nsfwjs package (its model.json and weight shards are base64 JS modules)
 * into TF.js, cut at the feature layer.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { sha256 } from '@caption/core';
import { tf } from '@caption/core/tf';
import type { Backbone } from './backbones.ts';

export interface LoadedBackbone {
  extractor: tf.LayersModel;  // input [B, S, S, 3] in [0,1] -> [B, h, w, D]
  weightsHash: string;
}

export async function loadBackbone(backbone: Backbone): Promise<LoadedBackbone> {
  const require = createRequire(import.meta.url);
  // `nsfwjs` resolves to dist/cjs/index.js; the model modules sit in dist/models/<name>/.
  const dir = path.join(path.dirname(require.resolve('nsfwjs')), '..', 'models', backbone.nsfwjsDir);
  const modelJson = require(path.join(dir, 'model.min.js')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const shards = modelJson.weightsManifest.flatMap((g) =>
    g.paths.map((p) => Buffer.from(require(path.join(dir, `${p}.min.js`)) as string, 'base64')),
  );
  const weightData = Buffer.concat(shards);
  const weightsHash = sha256(Buffer.concat([Buffer.from(JSON.stringify(modelJson.modelTopology)), weightData]));
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: modelJson.modelTopology,
      weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights),
      weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
    }),
  );
  const extractor = tf.model({ inputs: model.inputs, outputs: model.getLayer(backbone.cutLayer).output });
  return { extractor, weightsHash };
}
