/**
 * The TensorFlow.js runtime every stage shares: one `tf` instance, the backend picked at run time
 * (tfjs-node(-gpu) when installed -> wasm -> cpu) and the kernel fixes the wasm backend needs to train.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernelFixes } from './wasm-kernels.ts';
export { setTransposeFirstMatMul } from './wasm-kernels.ts';

export { tf };
export type TfBackend = 'tensorflow' | 'wasm' | 'cpu';

let chosen: TfBackend | undefined;

/**
 * Initialise TF.js once. `prefer` = 'auto' tries the native binding first (only present where the user
 * installed @tensorflow/tfjs-node or -gpu, which cannot install offline), then wasm, then the slow cpu backend.
 */
export async function initTf(prefer: TfBackend | 'auto' = 'auto'): Promise<TfBackend> {
  if (chosen) return chosen;
  const order: TfBackend[] = prefer === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [prefer];
  for (const name of order) {
    if (name === 'tensorflow' && !(await tryImportNative())) continue;
    if (name === 'wasm') registerWasmKernelFixes();
    if (await tf.setBackend(name).catch(() => false)) {
      await tf.ready();
      return (chosen = name);
    }
  }
  throw new Error(`no TensorFlow.js backend could be initialised (tried ${order.join(', ')})`);
}

async function tryImportNative(): Promise<boolean> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(pkg);
      return true;
    } catch {
      /* optional accelerated backend: absent is the normal case here */
    }
  }
  return false;
}
