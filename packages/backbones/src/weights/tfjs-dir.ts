/**
 * TF.js LayersModel directories (`model.json` + weight shards, what `tensorflowjs_converter
 * --output_format tfjs_layers_model` or `model.save('file://dir')` writes) on the local disk, through a
 * small `tf.io.IOHandler` (tfjs-node's file:// handler is not available with the wasm backend), plus
 * the topology edit that puts the pipeline's input transform in front of a loaded model.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { tf } from '@caption/core/tf';

export const MODEL_JSON = 'model.json';

/** Load/save handler for a directory holding model.json and its weight shards. */
export function fileSystemHandler(dir: string): tf.io.IOHandler {
  const root = path.resolve(dir);
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const jsonFile = path.join(root, MODEL_JSON);
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(await readFile(jsonFile, 'utf8')) as tf.io.ModelJSON;
      } catch (err) {
        throw new Error(`${jsonFile}: cannot read a TF.js model.json (${(err as Error).message})`);
      }
      if (!json.modelTopology) throw new Error(`${jsonFile}: no modelTopology (a graph model? only TF.js LayersModels are supported)`);
      if (json.format && json.format !== 'layers-model') throw new Error(`${jsonFile}: format '${json.format}'; only 'layers-model' is supported`);
      const manifest = json.weightsManifest ?? [];
      const weightSpecs: tf.io.WeightsManifestEntry[] = [];
      const shards: Buffer[] = [];
      for (const group of manifest) {
        for (const p of group.paths) {
          const file = path.resolve(root, p);
          if (path.relative(root, file).startsWith('..')) throw new Error(`${jsonFile}: weight shard '${p}' lies outside the model directory`);
          try {
            shards.push(await readFile(file));
          } catch (err) {
            throw new Error(`${jsonFile}: weight shard '${p}' cannot be read (${(err as Error).message})`);
          }
        }
        weightSpecs.push(...group.weights);
      }
      const data = Buffer.concat(shards);
      return {
        modelTopology: json.modelTopology,
        weightSpecs,
        weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        trainingConfig: json.trainingConfig,
        userDefinedMetadata: json.userDefinedMetadata,
      };
    },

    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      await mkdir(root, { recursive: true });
      const weights = artifacts.weightData ? Buffer.concat((Array.isArray(artifacts.weightData) ? artifacts.weightData : [artifacts.weightData]).map((b) => Buffer.from(b))) : Buffer.alloc(0);
      const json: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as object,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      for (const [file, bytes] of [['weights.bin', weights], [MODEL_JSON, Buffer.from(JSON.stringify(json))]] as const) {
        await writeFile(path.join(root, `${file}.${process.pid}`), bytes);
        await rename(path.join(root, `${file}.${process.pid}`), path.join(root, file));
      }
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON', weightDataBytes: weights.length } };
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Topology edits on Keras model JSON (`{class_name, config}`, or `{model_config: {...}}` from old converters)

type LayerJson = { class_name: string; name?: string; config: Record<string, unknown>; inbound_nodes?: unknown[] };
interface ModelJsonConfig { class_name: string; config: { name?: string; layers: LayerJson[]; input_layers?: unknown[]; output_layers?: unknown[] } | LayerJson[] }

function modelConfig(topology: object): ModelJsonConfig {
  const t = topology as { model_config?: ModelJsonConfig } & ModelJsonConfig;
  const mc = t.model_config ?? t;
  if (!mc || typeof mc !== 'object' || !('config' in mc)) throw new Error('model.json: modelTopology has no model config');
  return mc;
}

function layersOf(mc: ModelJsonConfig): LayerJson[] {
  return Array.isArray(mc.config) ? mc.config : mc.config.layers;
}

function isSequential(mc: ModelJsonConfig): boolean {
  return Array.isArray(mc.config) || mc.class_name === 'Sequential';
}

/** The layer that carries the image input shape: the functional model's input layer, or a Sequential's first layer. */
function inputLayerJson(mc: ModelJsonConfig): LayerJson {
  const layers = layersOf(mc);
  if (isSequential(mc)) return layers[0];
  const inputs = (mc.config as { input_layers?: [string, number, number][] }).input_layers ?? [];
  if (inputs.length !== 1) throw new Error(`model.json: the model has ${inputs.length} inputs; expected one image input`);
  const found = layers.find((l) => (l.name ?? l.config.name) === inputs[0][0]);
  if (!found) throw new Error(`model.json: input layer '${inputs[0][0]}' not found`);
  return found;
}

function shapeKey(config: Record<string, unknown>): 'batch_input_shape' | 'batchInputShape' {
  return config.batch_input_shape === undefined && config.batchInputShape !== undefined ? 'batchInputShape' : 'batch_input_shape';
}

/** The square input size of a topology's (single) image input, or null when its spatial size is dynamic. */
export function topologyInputSize(topology: object): number | null {
  const input = inputLayerJson(modelConfig(topology));
  const shape = input.config[shapeKey(input.config)] as (number | null)[] | undefined;
  if (!shape || shape.length !== 4 || shape[3] !== 3) {
    throw new Error(`model.json: the input layer '${input.config.name}' must take [batch, height, width, 3] images (batch_input_shape ${JSON.stringify(shape)})`);
  }
  if (shape[1] !== shape[2]) throw new Error(`model.json: input ${shape[1]}x${shape[2]} is not square`);
  return shape[1];
}

/**
 * A copy of `topology` whose image input is `size` x `size` (a dynamic input is fixed; a different fixed
 * size is an error) and, when `transform` is given, with that layer inserted right after the input (the
 * layers reading the input read it instead). A topology that already has a layer of that name, with the
 * same class and settings, is left as it is.
 */
export function prepareTopology(topology: object, size: number, transform?: LayerJson): object {
  const copy = JSON.parse(JSON.stringify(topology)) as object;
  const mc = modelConfig(copy);
  const layers = layersOf(mc);
  const have = topologyInputSize(copy);
  if (have !== null && have !== size) throw new Error(`model.json: the model takes ${have}x${have} images; this backbone feeds ${size}x${size}`);
  const input = inputLayerJson(mc);
  const key = shapeKey(input.config);
  const shape = input.config[key] as (number | null)[];
  input.config[key] = [shape[0], size, size, shape[3]];
  if (!transform) return copy;
  const name = String(transform.config.name);
  const existing = layers.find((l) => (l.name ?? l.config.name) === name);
  if (existing) {
    const same = existing.class_name === transform.class_name &&
      JSON.stringify(pick(existing.config)) === JSON.stringify(pick(transform.config));
    if (!same) throw new Error(`model.json: has a layer '${name}' that is not this backbone's input transform (${JSON.stringify(existing.config)})`);
    return copy;
  }
  const inserted: LayerJson = { class_name: transform.class_name, config: { ...transform.config } };
  if (isSequential(mc)) {
    if (input.class_name === 'InputLayer') layers.splice(1, 0, inserted);
    else {
      // the first layer carries the input shape; the transform takes it over
      inserted.config[key] = input.config[key];
      delete input.config[key];
      layers.splice(0, 0, inserted);
    }
    return copy;
  }
  // Functional: every reference to the input layer now points at the transform
  const inputName = String(input.name ?? input.config.name);
  const rewire = (v: unknown): unknown => {
    if (Array.isArray(v)) {
      if (v.length >= 3 && v[0] === inputName && typeof v[1] === 'number' && typeof v[2] === 'number') return [name, ...v.slice(1)];
      return v.map(rewire);
    }
    return v;
  };
  for (const l of layers) if (l.inbound_nodes) l.inbound_nodes = rewire(l.inbound_nodes) as unknown[];
  const cfg = mc.config as { output_layers?: unknown[] };
  if (cfg.output_layers) cfg.output_layers = rewire(cfg.output_layers) as unknown[];
  layers.splice(layers.indexOf(input) + 1, 0, { ...inserted, name, inbound_nodes: [[[inputName, 0, 0, {}]]] });
  return copy;
}

function pick(config: Record<string, unknown>): Record<string, unknown> {
  const { source, scale, offset } = config;
  return { source: source ?? null, scale, offset: offset ?? 0 };
}
