/**
 * Inference engines for a backbone: ONNX Runtime (default: the Keras graph translated to ONNX, cached
 * per weights hash, intra-op threads = cores) or TF.js (the reference the ONNX graph is checked against).
 */
import { cached } from '@caption/core';
import { tf } from '@caption/core/tf';
import type { Backbone } from './registry/index.ts';
import { buildOnnxGraph, CONVERTER_VERSION, OnnxExtractor } from './onnx/index.ts';
import { buildOnnxFromTfGraph, TF_GRAPH_CONVERTER_VERSION } from './onnx/tf-graph-to-onnx.ts';
import type { GraphExtractor } from './weights/graph-model.ts';

type Extractor = tf.LayersModel | GraphExtractor;

export interface FeatureEngine {
  name: string;                                            // recorded in shard metadata and the manifest
  /** pixels [n, S, S, 3] in [0,1] -> features [n, L, D] */
  run(pixels: Float32Array, n: number): Promise<Float32Array>;
  dispose(): void;
}

export function tfjsEngine(extractor: Extractor, backbone: Backbone, backend: string): FeatureEngine {
  const S = backbone.inputSize;
  const forward = (x: tf.Tensor4D): tf.Tensor => {
    if (extractor instanceof tf.LayersModel) return extractor.predict(x) as tf.Tensor;
    const { model, cut } = extractor;
    const map = model.execute({ [cut.input]: tf.mul(x, cut.inputScale) }, cut.output) as tf.Tensor4D;
    return cut.pool > 1 ? tf.avgPool(map, cut.pool, cut.pool, 'valid') : map;
  };
  return {
    name: `tfjs-${backend}`,
    async run(pixels, n) {
      const out = tf.tidy(() => forward(tf.tensor4d(pixels, [n, S, S, 3])));
      const values = (await out.data()) as Float32Array; // [n, h, w, D] row-major == [n, L, D]
      out.dispose();
      return values;
    },
    dispose: () => undefined,
  };
}

/**
 * The ONNX graph is built once per (weights, cut layer, converter version) and cached under .caption/cache/onnx/.
 * Intra-op threads: `threads`, else `CAPTION_ONNX_THREADS`, else one per core.
 */
export async function onnxEngine(extractor: Extractor, backbone: Backbone, weightsHash: string, threads = threadsFromEnv()): Promise<FeatureEngine> {
  const layers = extractor instanceof tf.LayersModel;
  const version = layers ? `c${CONVERTER_VERSION}` : `g${TF_GRAPH_CONVERTER_VERSION}-pool${extractor.cut.pool}`;
  const name = `onnx/${backbone.id}-${backbone.cutLayer.replace(/\//g, '.')}-${weightsHash.slice(0, 16)}-${version}.onnx`;
  const build = () => (layers ? buildOnnxGraph(extractor, backbone.cutLayer) : buildOnnxFromTfGraph(extractor.cut));
  const session = await OnnxExtractor.create(await cached(name, build), { threads });
  return {
    name: 'onnxruntime-cpu',
    run: (pixels, n) => session.run(pixels, n, backbone.inputSize),
    dispose: () => void session.dispose(),
  };
}

function threadsFromEnv(): number | undefined {
  const v = process.env.CAPTION_ONNX_THREADS;
  return v ? Number(v) : undefined;
}
