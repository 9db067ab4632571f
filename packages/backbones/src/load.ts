/**
 * `loadBackbone`: a registry backbone + a weights source -> a TF.js extractor cut at the feature layer.
 *
 * Weights sources (`features.weights`):
 * - `pretrained`: the nsfwjs models (their model.json and weight shards are base64 JS modules in the npm
 *   package); inception_v3 / inception_v3_pooled / mobilenet_v2 only.
 * - a TF.js LayersModel directory (model.json + shards; a path to its model.json works too), read with
 *   a file-system IOHandler; the backbone's input transform is inserted after its input, its input size
 *   fixed to the backbone's.
 * - a Keras 2 .h5 weights file (keras.applications layout) for the network built in code (efficientnet_b0,
 *   vgg16) or the nsfwjs topology (inception/mobilenet; layer names as in that model), loaded by layer name.
 * - `random`: seeded random weights (tests only; the metadata says so).
 * Paths are resolved against the repository root, `${VAR}` expanded (as data set paths are).
 *
 * Only the layers up to the cut need weights: a file may hold more (a classifier head), never less.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { expandEnv, repoRoot, sha256 } from '@caption/core';
import { tf } from '@caption/core/tf';
import { efficientNetB0 } from './architectures/efficientnet.ts';
import { ChannelAffine } from './architectures/layers.ts';
import { vgg16 } from './architectures/vgg16.ts';
import { WEIGHTS_NOTE, type Backbone } from './registry/index.ts';
import { assignFromH5, assignRandom, weightedLayers } from './weights/assign.ts';
import { openKerasH5 } from './weights/h5.ts';
import { RANDOM_WEIGHTS_NOTE, randomWeight } from './weights/random.ts';
import { fileSystemHandler, MODEL_JSON, prepareTopology } from './weights/tfjs-dir.ts';

export interface LoadBackboneOptions {
  /** 'pretrained' (default), 'random', or a path: a Keras .h5 weights file or a TF.js model directory */
  weights?: string;
  /** seed of `random` weights (the pipeline seed) */
  seed?: number;
  /** cut at this layer instead of the registry's (pooled backbones: pool this layer's output) */
  cutLayer?: string;
}

export interface LoadedBackbone {
  extractor: tf.LayersModel;  // input [B, S, S, 3] RGB in [0,1] -> [B, h, w, D] or [B, D]
  weightsHash: string;        // sha256 identifying the weights (and topology) the features come from
  weightsNote: string;        // what the weights are, for shard metadata and the manifest
  /** the backbone as loaded: the registry entry, with cutLayer/shape of this extractor (they differ only with a cutLayer override) */
  backbone: Backbone;
}

export type WeightsSource =
  | { kind: 'pretrained' }
  | { kind: 'random' }
  | { kind: 'h5'; file: string }
  | { kind: 'tfjs'; dir: string };

const HDF5_MAGIC = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** What `features.weights` names; paths are resolved against the repository root. */
export async function resolveWeightsSource(weights: string): Promise<WeightsSource> {
  if (weights === 'pretrained' || weights === 'random') return { kind: weights };
  const p = path.resolve(repoRoot(), expandEnv(weights));
  if (!existsSync(p)) {
    throw new Error(`features.weights: '${weights}' is not 'pretrained', 'random', or an existing Keras .h5 file / TF.js model directory (looked for ${p})`);
  }
  if (statSync(p).isDirectory()) {
    if (!existsSync(path.join(p, MODEL_JSON))) throw new Error(`features.weights: directory ${p} has no ${MODEL_JSON} (expected a TF.js LayersModel directory)`);
    return { kind: 'tfjs', dir: p };
  }
  if (path.basename(p) === MODEL_JSON) return { kind: 'tfjs', dir: path.dirname(p) };
  const fh = await open(p, 'r');
  const head = Buffer.alloc(8);
  try {
    await fh.read(head, 0, 8, 0);
  } finally {
    await fh.close();
  }
  if (!head.equals(HDF5_MAGIC)) throw new Error(`features.weights: ${p} is neither an HDF5 (.h5) file nor a TF.js model directory`);
  return { kind: 'h5', file: p };
}

export async function loadBackbone(backbone: Backbone, opts: LoadBackboneOptions = {}): Promise<LoadedBackbone> {
  const weights = opts.weights ?? 'pretrained';
  const seed = opts.seed ?? 0;
  const source = await resolveWeightsSource(weights);
  const architecture = backbone.architecture ?? 'nsfwjs';

  switch (source.kind) {
    case 'pretrained': {
      if (!backbone.pretrained) {
        throw new Error(`${backbone.id}: no pretrained weights ship offline; pass a Keras .h5 file or a TF.js model directory (features.weights), or 'random' for tests`);
      }
      const { model, weightsHash } = await nsfwjsModel(backbone, 'pretrained', seed);
      return { ...cut(model, backbone, opts.cutLayer), weightsHash, weightsNote: WEIGHTS_NOTE };
    }
    case 'random': {
      if (architecture === 'nsfwjs') {
        const { model, weightsHash } = await nsfwjsModel(backbone, 'random', seed);
        return { ...cut(model, backbone, opts.cutLayer), weightsHash, weightsNote: RANDOM_WEIGHTS_NOTE };
      }
      const c = cut(buildArchitecture(backbone, opts.cutLayer), backbone, opts.cutLayer);
      // The preprocessing layers keep their fixed values (Normalization: the ImageNet statistics).
      const weightsHash = mix(assignRandom(weightedLayers(c.extractor), seed, (l) => l.getClassName() === 'Normalization'), c.extractor);
      return { ...c, weightsHash, weightsNote: RANDOM_WEIGHTS_NOTE };
    }
    case 'h5': {
      const h5 = await openKerasH5(source.file);
      try {
        const base = architecture === 'nsfwjs' ? (await nsfwjsModel(backbone, 'zeros', seed)).model : buildArchitecture(backbone, opts.cutLayer);
        const c = cut(base, backbone, opts.cutLayer);
        const { hash, used } = assignFromH5(weightedLayers(c.extractor), h5, `${backbone.id} (up to '${c.backbone.cutLayer}')`);
        const version = h5.kerasVersion ? `, keras ${h5.kerasVersion}` : '';
        return { ...c, weightsHash: mix(hash, c.extractor), weightsNote: `Keras h5 weights ${path.basename(source.file)} (${used} layers${version})` };
      } finally {
        h5.close();
      }
    }
    case 'tfjs': {
      const artifacts = await fileSystemHandler(source.dir).load!();
      const topology = prepareTopology(artifacts.modelTopology as object, backbone.inputSize, transformLayerJson(backbone));
      const data = artifacts.weightData as ArrayBuffer;
      const weightsHash = createHash('sha256').update(JSON.stringify(topology)).update(new Uint8Array(data)).digest('hex');
      const model = await tf.loadLayersModel(tf.io.fromMemory({ ...artifacts, modelTopology: topology }));
      return { ...cut(model, backbone, opts.cutLayer), weightsHash, weightsNote: `TF.js layers model ${path.basename(source.dir)}` };
    }
  }
}

/** The weights hash of a built network: its topology (as cut) and the hash of the assigned values. */
function mix(valuesHash: string, extractor: tf.LayersModel): string {
  return sha256(`${JSON.stringify(extractor.toJSON(null, false))}\n${valuesHash}`);
}

/** The backbone's input transform as a Keras layer config (for inserting into a loaded topology). */
function transformLayerJson(backbone: Backbone) {
  if (!backbone.inputTransform) return undefined;
  const layer = new ChannelAffine({ name: 'pipeline_input', ...backbone.inputTransform });
  const config = layer.getConfig();
  return { class_name: ChannelAffine.className, config: { ...config, name: 'pipeline_input' } };
}

function buildArchitecture(backbone: Backbone, cutOverride?: string): tf.LayersModel {
  const stopAt = cutOverride ?? backbone.pool?.from ?? backbone.cutLayer;
  switch (backbone.architecture) {
    case 'efficientnet_b0':
      return efficientNetB0(backbone.inputSize, { inputTransform: backbone.inputTransform });
    case 'vgg16':
      return vgg16(backbone.inputSize, { stopAt, inputTransform: backbone.inputTransform });
    default:
      throw new Error(`${backbone.id}: architecture '${backbone.architecture}' is not built in code`);
  }
}

/**
 * The nsfwjs model (topology + weight shards from the npm package): its own weights, seeded random ones,
 * or zeros (to be overwritten from an .h5 file).
 */
async function nsfwjsModel(backbone: Backbone, weights: 'pretrained' | 'random' | 'zeros', seed: number): Promise<{ model: tf.LayersModel; weightsHash: string }> {
  if (!backbone.nsfwjsDir) throw new Error(`${backbone.id}: no nsfwjs model`);
  const require = createRequire(import.meta.url);
  // `nsfwjs` resolves to dist/cjs/index.js; the model modules sit in dist/models/<name>/.
  const dir = path.join(path.dirname(require.resolve('nsfwjs')), '..', 'models', backbone.nsfwjsDir);
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
    if (weights === 'random') {
      let at = 0;
      weightSpecs.forEach((s, i) => {
        const parts = s.name.split('/');
        all.set(randomWeight(seed, parts.slice(0, -1).join('/'), parts[parts.length - 1], s.shape), at);
        at += sizes[i];
      });
    }
    weightData = Buffer.from(all.buffer);
    weightsHash = createHash('sha256').update(`${backbone.nsfwjsDir} ${weights} seed ${seed}\n`).update(JSON.stringify(modelTopology)).update(weightData).digest('hex');
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

/**
 * Cut `model` at the backbone's layer (or `override`); pooled backbones add GlobalAveragePooling2D
 * `<layer>_avg_pool`. Returns the extractor and the backbone as cut (cutLayer = the extractor's output
 * layer, shape = its [L, D]); without an override the shape must be the registry's.
 */
export function cut(model: tf.LayersModel, backbone: Backbone, override?: string): { extractor: tf.LayersModel; backbone: Backbone } {
  const base = override ?? backbone.pool?.from ?? backbone.cutLayer;
  let layer: tf.layers.Layer;
  try {
    layer = model.getLayer(base);
  } catch {
    const names = model.layers.map((l) => l.name);
    throw new Error(`${backbone.id}: the network has no layer '${base}'${override ? ' (features.cutLayer)' : ''}; its layers: ${names.slice(0, 6).join(', ')}, ..., ${names.slice(-6).join(', ')}`);
  }
  let out = layer.output;
  if (Array.isArray(out)) throw new Error(`${backbone.id}: layer '${base}' has ${out.length} outputs; cut at a single-output layer`);
  let cutLayer = base;
  if (backbone.pool) {
    if (out.shape.length !== 4) throw new Error(`${backbone.id}: cannot pool layer '${base}': its output [${out.shape}] is not a feature map`);
    cutLayer = `${base}_avg_pool`;
    out = tf.layers.globalAveragePooling2d({ name: cutLayer }).apply(out) as tf.SymbolicTensor;
  }
  const shape = featureShape(out.shape);
  if (!override && (shape[0] !== backbone.shape[0] || shape[1] !== backbone.shape[1])) {
    throw new Error(`${backbone.id}: '${cutLayer}' gives features [${shape}], the registry says [${backbone.shape}] (a model of another architecture or input size?)`);
  }
  const extractor = tf.model({ inputs: model.inputs, outputs: out, name: `${backbone.id}_features` });
  const resolved: Backbone = { ...backbone, cutLayer, shape };
  if (backbone.pool) resolved.pool = { from: base };
  return { extractor, backbone: resolved };
}

/** [batch, h, w, D] -> [h*w, D]; [batch, L, D] -> [L, D]; [batch, D] -> [1, D]. */
function featureShape(s: (number | null)[]): [number, number] {
  const dims = s.slice(1);
  if (dims.some((d) => d === null)) throw new Error(`feature shape [${s}] is not static`);
  const n = dims as number[];
  if (n.length === 1) return [1, n[0]];
  if (n.length === 2) return [n[0], n[1]];
  if (n.length === 3) return [n[0] * n[1], n[2]];
  throw new Error(`feature shape [${s}]: expected [batch, h, w, D], [batch, L, D] or [batch, D]`);
}
