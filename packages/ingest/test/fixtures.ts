/**
 * Test helpers for the ingest tests: temp dirs that are always removed, generated images (no committed
 * binaries), stage params, and reading an ingest artifact back. Not a test file itself.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { PipelineError, readParquetRows, type Manifest, type StageParamsFile } from '@caption/core';
import type { IngestParams } from '../src/params.ts';
import type { CaptionRow, ImageRow, RejectRow } from '../src/rows.ts';
import { runIngest } from '../src/stage.ts';

/** Runs `fn` in a fresh temp dir, removed afterwards whatever happens. */
export async function withTmp<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `ingest-${prefix}-`));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Fully resolved ingest params (the schema's defaults), with overrides. */
export function ingestParams(dataset: string, over: Partial<IngestParams> = {}): IngestParams {
  return {
    dataset,
    demo: { images: 8, seed: 1 },
    format: 'auto',
    lemmas: false,
    imageDir: '',
    splitMap: {},
    splitFractions: { train: 0.8, dev: 0.1, test: 0.1 },
    strict: false,
    concurrency: 4,
    ...over,
  };
}

export const stageFile = (dataset: string, over: Partial<IngestParams> = {}, seed = 1): StageParamsFile<IngestParams> =>
  ({ pipeline: 'test', seed, params: ingestParams(dataset, over) });

export interface IngestResult {
  manifest: Manifest;
  images: ImageRow[];
  captions: CaptionRow[];
  rejects: RejectRow[];
}

export async function readTable<T>(dir: string, name: string): Promise<T[]> {
  return readParquetRows<T>(path.join(dir, name));
}

/** runIngest into `out`, then read the three tables back from the artifact. */
export async function ingest(dataset: string, out: string, over: Partial<IngestParams> = {}, seed = 1): Promise<IngestResult> {
  const manifest = await runIngest(stageFile(dataset, over, seed), out);
  return {
    manifest,
    images: await readTable<ImageRow>(out, 'images.parquet'),
    captions: await readTable<CaptionRow>(out, 'captions.parquet'),
    rejects: await readTable<RejectRow>(out, 'rejects.parquet'),
  };
}

/** The manifest's counts agree with each other and with the tables. */
export function assertCountsAddUp({ manifest, images, captions, rejects }: IngestResult): void {
  const c = manifest.rows;
  assert.equal(c.caption_records, c.captions_kept + c.captions_rejected, 'caption_records == captions_kept + captions_rejected');
  assert.equal(c.captions_kept, captions.length);
  assert.equal(c.images, images.length);
  assert.equal(c.images_train + c.images_dev + c.images_test + c.images_none, c.images);
  assert.equal(c.captions_rejected + c.split_records_rejected + c.images_without_caption, rejects.length);
  const perReason = Object.entries(c).filter(([k]) => k.startsWith('rejected: '));
  assert.equal(perReason.reduce((a, [, n]) => a + n, 0), rejects.length, 'per-reason counts sum to the rejects');
  for (const [k, n] of perReason) assert.equal(rejects.filter((r) => r.reason === k.slice('rejected: '.length)).length, n, k);
}

export async function writeFiles(root: string, files: Record<string, string | Uint8Array>): Promise<void> {
  for (const [rel, data] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), data);
  }
}

/**
 * A small image with content that depends on `n` (so every image has its own sha256) and enough texture
 * that a JPEG has a real entropy-coded body (truncating it is then a decode error, not a header error).
 */
export async function makeImage(n: number, format: 'jpeg' | 'png' | 'webp' = 'jpeg', size = 32, orientation?: number): Promise<Buffer> {
  const px = Buffer.alloc(size * size * 3);
  let s = (n * 2654435761 + 12345) >>> 0;
  for (let i = 0; i < px.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    px[i] = s >>> 24;
  }
  let img = sharp(px, { raw: { width: size, height: size, channels: 3 } });
  if (orientation !== undefined) img = img.withMetadata({ orientation });
  return img.toFormat(format).toBuffer();
}

/** A JPEG cut in the middle of its entropy-coded data (headers intact). */
export function truncateJpeg(jpeg: Buffer): Buffer {
  let sos = -1;
  for (let i = 0; i + 1 < jpeg.length; i++) if (jpeg[i] === 0xff && jpeg[i + 1] === 0xda) { sos = i; break; }
  assert.ok(sos > 0, 'no SOS marker');
  return jpeg.subarray(0, sos + Math.floor((jpeg.length - sos) / 2));
}

/** A well-formed 2x2 24-bit BMP file (a format sharp does not read). */
export function bmpBytes(): Buffer {
  const b = Buffer.alloc(54 + 16);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(2, 18);
  b.writeInt32LE(2, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  b.writeUInt32LE(16, 34);
  return b;
}

/** Deterministic bytes that are no image format (no magic number anywhere sharp looks). */
export const randomBytes = (n = 256, seed = 7): Buffer =>
  Buffer.from(Array.from({ length: n }, (_, i) => (Math.imul(i + seed, 2654435761) >>> 13) & 0xff).map((b, i) => (i === 0 ? 0x5a : b)));

export async function expectPipelineError(fn: () => Promise<unknown>, code: string, ...messages: (RegExp | string)[]): Promise<PipelineError> {
  let caught: unknown;
  await assert.rejects(fn, (err: unknown) => {
    caught = err;
    return true;
  });
  assert.ok(caught instanceof PipelineError, `expected a PipelineError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const m of messages) {
    if (typeof m === 'string') assert.ok(caught.message.includes(m), `message lacks ${JSON.stringify(m)}: ${caught.message}`);
    else assert.match(caught.message, m);
  }
  return caught;
}

/** Tab-separated Flickr token lines for `captions[id] = [...]`, numbered #0.. */
export const tokenLines = (captions: Record<string, string[]>) =>
  Object.entries(captions).flatMap(([id, cs]) => cs.map((c, i) => `${id}#${i}\t${c}`));
