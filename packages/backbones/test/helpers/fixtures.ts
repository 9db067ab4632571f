/**
 * Shared test fixtures (not a test file): a temp repo root (so ONNX graphs are cached there, not in the
 * repository, and every run converts afresh), demo images decoded like the pipeline does, and output
 * comparisons.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { tf } from '@caption/core/tf';
import { writeDemoDataset } from '../../../ingest/src/index.ts';
import { decodeImage } from '../../src/decode.ts';

/** A temp dir; CAPTION_ROOT points at it (repoRoot() -> the ONNX cache goes there). */
export async function tempRoot(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  const before = process.env.CAPTION_ROOT;
  process.env.CAPTION_ROOT = dir;
  return {
    dir,
    cleanup: async () => {
      if (before === undefined) delete process.env.CAPTION_ROOT;
      else process.env.CAPTION_ROOT = before;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** `n` generated demo JPEGs (coloured shapes) under `dir`. */
export async function demoImages(dir: string, n = 2, seed = 11): Promise<string[]> {
  await writeDemoDataset(dir, { seed, images: n });
  const imgDir = path.join(dir, 'Flicker8k_Dataset');
  const files = (await readdir(imgDir)).filter((f) => f.endsWith('.jpg')).sort().map((f) => path.join(imgDir, f));
  assert.equal(files.length, n);
  return files;
}

/** The images decoded and resized like the pipeline does: [n, S, S, 3] RGB in [0,1]. */
export async function pixels(files: string[], size: number): Promise<Float32Array> {
  const out = new Float32Array(files.length * size * size * 3);
  for (let i = 0; i < files.length; i++) out.set(await decodeImage(files[i], size), i * size * size * 3);
  return out;
}

export function predict(model: tf.LayersModel, px: Float32Array, n: number, size: number): Float32Array {
  const t = tf.tidy(() => model.predict(tf.tensor4d(px, [n, size, size, 3])) as tf.Tensor);
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}

export interface Diff {
  maxAbs: number;   // max |a - b|
  maxRef: number;   // max |b|
  rel: number;      // maxAbs / maxRef
}

/** Per row (image) of `rows` equal parts: max |got - ref| and the reference magnitude. */
export function diffPerRow(got: Float32Array, ref: Float32Array, rows: number): Diff[] {
  assert.equal(got.length, ref.length, `lengths ${got.length} vs ${ref.length}`);
  const per = ref.length / rows;
  return Array.from({ length: rows }, (_, r) => {
    let maxAbs = 0;
    let maxRef = 0;
    for (let k = r * per; k < (r + 1) * per; k++) {
      maxAbs = Math.max(maxAbs, Math.abs(got[k] - ref[k]));
      maxRef = Math.max(maxRef, Math.abs(ref[k]));
    }
    assert.ok(Number.isFinite(maxAbs), `row ${r}: non-finite values`);
    return { maxAbs, maxRef, rel: maxRef > 0 ? maxAbs / maxRef : maxAbs };
  });
}

/** Every weight of two models, bit for bit. */
export function assertSameWeights(a: tf.LayersModel, b: tf.LayersModel): number {
  const wa = a.weights;
  const wb = b.weights;
  assert.deepEqual(wb.map((w) => w.originalName), wa.map((w) => w.originalName));
  let n = 0;
  wa.forEach((w, i) => {
    const x = w.read().dataSync();
    const y = wb[i].read().dataSync();
    assert.deepEqual(wb[i].shape, w.shape, w.originalName);
    assert.ok(Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength)), `weight ${w.originalName} differs`);
    n += x.length;
  });
  return n;
}
