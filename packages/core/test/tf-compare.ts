/** Comparing the wasm backend with the reference cpu backend: tensors built from plain arrays on each. */
import assert from 'node:assert/strict';
import { tf } from '../src/tf/runtime.ts';
import { Rng } from '../src/rng.ts';

export interface Result { shape: number[]; values: number[] }
export const read = (t: tf.Tensor): Result => ({ shape: t.shape, values: Array.from(t.dataSync()) });

export async function onCpu<T>(fn: () => T): Promise<T> {
  await tf.setBackend('cpu');
  try {
    return tf.tidy(fn as () => never) as T;
  } finally {
    await tf.setBackend('wasm');
  }
}
export function onWasm<T>(fn: () => T): T {
  assert.equal(tf.getBackend(), 'wasm');
  return tf.tidy(fn as () => never) as T;
}
export function assertClose(actual: Result, expected: Result, tol: number, label = ''): void {
  assert.deepEqual(actual.shape, expected.shape, `${label} shape`);
  assert.equal(actual.values.length, expected.values.length);
  actual.values.forEach((v, i) => {
    if (!(Math.abs(v - expected.values[i]) <= tol)) assert.fail(`${label}[${i}]: wasm ${v}, cpu ${expected.values[i]}`);
  });
}
export const randoms = (seed: number, n: number) => {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => rng.next() * 2 - 1);
};
export const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
