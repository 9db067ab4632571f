/**
 * Inference engines for a backbone: ONNX Runtime (default: the Keras graph translated to ONNX, cached
 * per weights hash, intra-op threads = cores) or TF.js (the reference the ONNX graph is checked against).
 */
import { cached } from '@caption/core';
import { tf } from '@caption/core/tf';
import type { Backbone } from './registry/index.ts';
import { buildOnnxGraph, CONVERTER_VERSION, OnnxExtractor } from './onnx/index.ts';

export interface FeatureEngine {
  name: string;                                            // recorded in shard metadata and the manifest
  /** pixels [n, S, S, 3] in [0,1] -> features [n, L, D] */
  run(pixels: Float32Array, n: number): Promise<Float32Array>;
  dispose(): void;
}

export function tfjsEngine(extractor: tf.LayersModel, backbone: Backbone, backend: string): FeatureEngine {
  const S = backbone.inputSize;
  return {
    name: `tfjs-${backend}`,
    async run(pixels, n) {
      const out = tf.tidy(() => extractor.predict(tf.tensor4d(pixels, [n, S, S, 3])) as tf.Tensor);
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
export async function onnxEngine(extractor: tf.LayersModel, backbone: Backbone, weightsHash: string, threads = threadsFromEnv()): Promise<FeatureEngine> {
  const name = `onnx/${backbone.id}-${backbone.cutLayer}-${weightsHash.slice(0, 16)}-c${CONVERTER_VERSION}.onnx`;
  const session = await OnnxExtractor.create(await cached(name, () => buildOnnxGraph(extractor, backbone.cutLayer)), { threads });
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
