/**
 * Kernel fixes for the TF.js wasm backend (4.22):
 * - UnsortedSegmentSum is missing, and the gradient of `gather` (every embedding lookup) needs it.
 * - BatchMatMul with transposeA/transposeB runs several times slower than the plain product, and dense-layer
 *   gradients use exactly those: transpose first with the wasm Transpose kernel, then call the plain kernel
 *   (the gain: README, "Training speed").
 * - The convolution gradients it lacks (wasm-conv-grads.ts), for training conv layers.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmConvGradients } from './wasm-conv-grads.ts';

let registered = false;
let transposeFirst = true;

/** For benchmarks: switch the BatchMatMul fix off to measure the stock kernel ("before"). */
export function setTransposeFirstMatMul(enabled: boolean): void {
  transposeFirst = enabled;
}

export function registerWasmKernelFixes(): void {
  if (registered) return;
  registered = true;
  registerUnsortedSegmentSum();
  registerFastBatchMatMul();
  registerWasmConvGradients();
}

function registerUnsortedSegmentSum(): void {
  if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      const numSegments = (attrs as { numSegments: number }).numSegments;
      const wasm = backend as BackendWasm;
      const xs = wasm.readSync(x.dataId) as Float32Array;
      const ids = wasm.readSync(segmentIds.dataId) as Int32Array;
      const inner = xs.length / Math.max(ids.length, 1);
      const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
      const out = wasm.makeOutput(outShape, x.dtype);
      const values = wasm.typedArrayFromHeap(out) as Float32Array;
      values.fill(0);
      for (let i = 0; i < ids.length; i++) {
        const s = ids[i];
        if (s < 0 || s >= numSegments) continue; // TF semantics: out-of-range ids are dropped
        const src = i * inner;
        const dst = s * inner;
        for (let j = 0; j < inner; j++) values[dst + j] += xs[src + j];
      }
      return out;
    },
  });
}

function registerFastBatchMatMul(): void {
  const original = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!original || !transpose) return;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({
    kernelName: 'BatchMatMul',
    backendName: 'wasm',
    setupFunc: original.setupFunc, // binds the wasm function the original kernel calls
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
      if ((!transposeA && !transposeB) || !transposeFirst) return original.kernelFunc({ inputs, backend, attrs });
      const temps: tf.TensorInfo[] = [];
      const swapLast = (t: tf.TensorInfo) => {
        const perm = t.shape.map((_, i) => i);
        [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
        const out = transpose.kernelFunc({ inputs: { x: t }, backend, attrs: { perm } }) as tf.TensorInfo;
        temps.push(out);
        return out;
      };
      const result = original.kernelFunc({
        inputs: { a: transposeA ? swapLast(a) : a, b: transposeB ? swapLast(b) : b },
        backend,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      });
      for (const t of temps) (backend as BackendWasm).disposeData(t.dataId);
      return result;
    },
  });
}
