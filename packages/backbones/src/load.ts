/**
 * `loadBackbone`: a registry backbone + a weights source -> a TF.js extractor cut at the feature layer.
 *
 * Weights sources (`features.weights`):
 * - `imagenet`: the official keras.applications file for the backbone (the no-top file where the cut allows),
 *   fetched once into `$CAPTION_CACHE` and verified against the hash Keras pins (weights/fetch.ts), loaded into
 *   the network built in code with Keras' layer names (architectures/) behind Keras' `preprocess_input`.
 * - a Keras 2 .h5 weights file (keras.applications layout), loaded the same way.
 * - `pretrained`: the nsfwjs models (their model.json and weight shards are base64 JS modules in the npm
 *   package); inception_v3 / inception_v3_pooled / mobilenet_v2 only, fed pixels in [0,1] as nsfwjs does.
 * - a TF.js LayersModel directory (model.json + shards; a path to its model.json works too), read with
 *   a file-system IOHandler; the backbone's input transform is inserted after its input, its input size
 *   fixed to the backbone's.
 * - `random`: seeded random weights (tests only; the metadata says so), on the nsfwjs topology where there is one.
 * Paths are resolved against the repository root, `${VAR}` expanded (as data set paths are).
 *
 * Only the layers up to the cut need weights: a file may hold more (a classifier head), never less.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { expandEnv, repoRoot, sha256 } from '@caption/core';
import { tf } from '@caption/core/tf';
import { efficientNetB0 } from './architectures/efficientnet.ts';
import { inceptionV3 } from './architectures/inception-v3.ts';
import { ChannelAffine } from './architectures/layers.ts';
import { mobileNetV2 } from './architectures/mobilenet-v2.ts';
import { vgg16 } from './architectures/vgg16.ts';
import { WEIGHTS_NOTE, type Backbone, type KerasWeightsFile } from './registry/index.ts';
import { assignFromH5, assignRandom, weightedLayers } from './weights/assign.ts';
import { fetchWeightsFile } from './weights/fetch.ts';
import { loadGraphBackbone, type GraphExtractor } from './weights/graph-model.ts';
import { openKerasH5 } from './weights/h5.ts';
import { nsfwjsModel } from './weights/nsfwjs.ts';
import { RANDOM_WEIGHTS_NOTE } from './weights/random.ts';
import { fileSystemHandler, MODEL_JSON, prepareTopology } from './weights/tfjs-dir.ts';

export interface LoadBackboneOptions {
  /** 'pretrained' (default), 'imagenet', 'random', or a path: a Keras .h5 weights file or a TF.js model directory */
  weights?: string;
  /** seed of `random` weights (the pipeline seed) */
  seed?: number;
  /** cut at this layer instead of the registry's (pooled backbones: pool this layer's output) */
  cutLayer?: string;
}

export interface LoadedBackbone {
  /** input [B, S, S, 3] RGB in [0,1] -> [B, h, w, D] or [B, D]; a graph-model backbone's graph as loaded */
  extractor: tf.LayersModel | GraphExtractor;
  weightsHash: string;        // sha256 identifying the weights (and topology) the features come from
  weightsNote: string;        // what the weights are, for shard metadata and the manifest
  /** the backbone as loaded: the registry entry, with cutLayer/shape of this extractor and the preprocessing of these weights */
  backbone: Backbone;
}

export type WeightsSource =
  | { kind: 'pretrained' }
  | { kind: 'imagenet' }
  | { kind: 'random' }
  | { kind: 'h5'; file: string }
  | { kind: 'tfjs'; dir: string };

const HDF5_MAGIC = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** What `features.weights` names; paths are resolved against the repository root. */
export async function resolveWeightsSource(weights: string): Promise<WeightsSource> {
  if (weights === 'pretrained' || weights === 'random' || weights === 'imagenet') return { kind: weights };
  const p = path.resolve(repoRoot(), expandEnv(weights));
  if (!existsSync(p)) {
    throw new Error(`features.weights: '${weights}' is not 'imagenet', 'pretrained', 'random', or an existing Keras .h5 file / TF.js model directory (looked for ${p})`);
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
  const seed = opts.seed ?? 0;
  const source = await resolveWeightsSource(opts.weights ?? 'pretrained');
  if (backbone.graph) {
    if (source.kind !== 'pretrained') throw new Error(`${backbone.id}: a graph-model backbone has only its packaged weights (features.weights: pretrained), not '${opts.weights}'`);
    const { shape, ...loaded } = await loadGraphBackbone(backbone, opts.cutLayer ?? backbone.cutLayer);
    return { ...loaded, backbone: { ...backbone, cutLayer: opts.cutLayer ?? backbone.cutLayer, shape } };
  }
  switch (source.kind) {
    case 'pretrained': {
      if (!backbone.nsfwjs) {
        throw new Error(`${backbone.id}: no pretrained weights ship offline; use 'imagenet' (downloaded once), a Keras .h5 file or a TF.js model directory (features.weights), or 'random' for tests`);
      }
      const { model, weightsHash } = await nsfwjsModel(backbone, 'pretrained', seed);
      return { ...cut(model, asNsfwjs(backbone), opts.cutLayer), weightsHash, weightsNote: WEIGHTS_NOTE };
    }
    case 'random': {
      if (backbone.nsfwjs) {
        const { model, weightsHash } = await nsfwjsModel(backbone, 'random', seed);
        return { ...cut(model, asNsfwjs(backbone), opts.cutLayer), weightsHash, weightsNote: RANDOM_WEIGHTS_NOTE };
      }
      const c = cut(buildArchitecture(backbone, opts.cutLayer), backbone, opts.cutLayer);
      // The preprocessing layers keep their fixed values (Normalization: the ImageNet statistics).
      const weightsHash = mix(assignRandom(weightedLayers(c.extractor), seed, (l) => l.getClassName() === 'Normalization'), c.extractor);
      return { ...c, weightsHash, weightsNote: RANDOM_WEIGHTS_NOTE };
    }
    case 'imagenet': {
      const spec = imagenetFile(backbone, opts.cutLayer);
      const fetched = await fetchWeightsFile(spec);
      return loadH5(backbone, fetched.path, opts.cutLayer, `Keras ImageNet weights ${spec.file}`);
    }
    case 'h5':
      return loadH5(backbone, source.file, opts.cutLayer, `Keras h5 weights ${path.basename(source.file)}`);
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

/** `loadBackbone` for a backbone that is a Keras network (every one but the graph models). */
export async function loadKerasBackbone(backbone: Backbone, opts: LoadBackboneOptions = {}): Promise<LoadedBackbone & { extractor: tf.LayersModel }> {
  const loaded = await loadBackbone(backbone, opts);
  if (!(loaded.extractor instanceof tf.LayersModel)) throw new Error(`${backbone.id}: a graph model, not a Keras network`);
  return { ...loaded, extractor: loaded.extractor };
}

/** The keras.applications file `imagenet` fetches: the no-top one unless the cut needs the classifier's layers. */
export function imagenetFile(backbone: Backbone, cutOverride?: string): KerasWeightsFile {
  const { notop, top, topLayers = [] } = backbone.imagenet;
  const needsTop = topLayers.includes(cutOverride ?? backbone.pool?.from ?? backbone.cutLayer);
  const file = needsTop ? top : notop ?? top;
  if (!file) throw new Error(`${backbone.id}: no keras.applications weight file covers the cut`);
  return file;
}

/** A Keras .h5 file into the network built in code, cut where asked. */
async function loadH5(backbone: Backbone, file: string, cutOverride: string | undefined, note: string): Promise<LoadedBackbone> {
  const h5 = await openKerasH5(file);
  try {
    const c = cut(buildArchitecture(backbone, cutOverride), backbone, cutOverride);
    const { hash, used } = assignFromH5(weightedLayers(c.extractor), h5, `${backbone.id} (up to '${c.backbone.cutLayer}')`);
    const version = h5.kerasVersion ? `, keras ${h5.kerasVersion}` : '';
    return { ...c, weightsHash: mix(hash, c.extractor), weightsNote: `${note} (${used} layers${version})` };
  } finally {
    h5.close();
  }
}

/** The backbone as its nsfwjs model sees images: pixels in [0,1], no input transform. */
function asNsfwjs(backbone: Backbone): Backbone {
  const { inputTransform: _, ...rest } = backbone;
  return { ...rest, preprocessing: backbone.nsfwjs!.preprocessing };
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

/** The network in code with Keras' layer names, built up to what the cut needs. */
function buildArchitecture(backbone: Backbone, cutOverride?: string): tf.LayersModel {
  const stopAt = cutOverride ?? backbone.pool?.from ?? backbone.cutLayer;
  const opts = { stopAt, inputTransform: backbone.inputTransform };
  switch (backbone.architecture) {
    case 'mobilenet_v2':
      return mobileNetV2(backbone.inputSize, opts);
    case 'inception_v3':
      return inceptionV3(backbone.inputSize, opts);
    case 'efficientnet_b0':
      return efficientNetB0(backbone.inputSize, { inputTransform: backbone.inputTransform });
    case 'vgg16':
      return vgg16(backbone.inputSize, opts);
    case undefined:
      throw new Error(`${backbone.id}: not a network built in code; only its packaged weights load`);
  }
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
