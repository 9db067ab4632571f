/**
 * ONNX Runtime (CPU) session for a graph from buildOnnxGraph: pixels [n, S, S, 3] NHWC float32 in,
 * features [n, L, D] out.
 */
import os from 'node:os';
import ort from 'onnxruntime-node';
import { ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from './keras-to-onnx.ts';

export interface OnnxExtractorOptions {
  /** intra-op threads; default os.availableParallelism() */
  threads?: number;
}

export class OnnxExtractor {
  private constructor(
    private session: ort.InferenceSession | undefined,
    readonly threads: number,
    private readonly inputName: string,
    private readonly outputName: string,
  ) {}

  static async create(onnxBytes: Uint8Array, opts: OnnxExtractorOptions = {}): Promise<OnnxExtractor> {
    const threads = opts.threads ?? os.availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`OnnxExtractor: threads must be a positive integer, got ${threads}`);
    const session = await ort.InferenceSession.create(onnxBytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
    });
    // graphs from buildOnnxGraph use fixed names; fall back to the sole input/output of other graphs
    const pick = (names: readonly string[], want: string, what: string) => {
      if (names.includes(want)) return want;
      if (names.length === 1) return names[0];
      throw new Error(`OnnxExtractor: graph has ${what}s [${names.join(', ')}]; expected '${want}'`);
    };
    return new OnnxExtractor(session, threads, pick(session.inputNames, ONNX_INPUT_NAME, 'input'), pick(session.outputNames, ONNX_OUTPUT_NAME, 'output'));
  }

  /** pixels: [n, size, size, 3] row-major (NHWC) -> [n, L, D] row-major. */
  async run(pixels: Float32Array, n: number, size: number): Promise<Float32Array> {
    if (!this.session) throw new Error('OnnxExtractor: run() after dispose()');
    const expected = n * size * size * 3;
    if (pixels.length !== expected) {
      throw new Error(`OnnxExtractor: got ${pixels.length} pixel values for [${n}, ${size}, ${size}, 3] (${expected})`);
    }
    const input = new ort.Tensor('float32', pixels, [n, size, size, 3]);
    const out = await this.session.run({ [this.inputName]: input });
    const features = out[this.outputName];
    if (features.type !== 'float32') throw new Error(`OnnxExtractor: output is ${features.type}, expected float32`);
    return features.data as Float32Array;
  }

  async dispose(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    await s?.release();
  }
}
