/**
 * Opening the images: sha256 of the bytes, sharp's header read (size, format, EXIF orientation) and a
 * full decode, which is what catches truncated files. Failures get one of a few fixed reasons. An image of a
 * data set is opened only if its real path (symlinks resolved) is inside the data directory.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import sharp, { type Metadata } from 'sharp';
import { IMAGE_FORMAT_NAMES, isSupportedFormat, outsideDetail, resolveUnder, sha256, sniffImageFormat } from '@caption/core';
import type { ImageProbe } from './rows.ts';
import { ESCAPES } from './split.ts';

/** Files in a folder (relative to the root, recursively not: data sets keep images flat), hidden ones skipped. */
export async function listImageFiles(root: string, imageDir: string): Promise<string[]> {
  const where = await resolveUnder(await realpath(root), path.join(root, imageDir));
  if (where.state !== 'inside') return []; // absent, or a folder outside: its images are rejected where named
  const entries = await readdir(path.join(root, imageDir), { withFileTypes: true });
  return entries.filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => `${imageDir}/${e.name}`).sort();
}

/** Probe the images of a data set (paths relative to `root`), never opening one that resolves outside it. */
export async function probeImages(
  root: string, paths: Iterable<string>, concurrency: number, onProbed: () => void = () => {},
): Promise<Map<string, ImageProbe>> {
  const rootReal = await realpath(root);
  const rels = [...new Set(paths)];
  const probes = await probeAll(rels.map((rel) => path.join(root, rel)), concurrency, onProbed, async (file) => {
    const where = await resolveUnder(rootReal, file);
    if (where.state === 'outside') return { ok: false, reason: ESCAPES, detail: outsideDetail(where.real, rootReal) };
    return where.state === 'missing' ? { ok: false, reason: 'image file missing' } : undefined;
  });
  return new Map(rels.map((rel, i) => [rel, probes[i]]));
}

/** Probe image files given by path (`caption predict`'s inputs: the user's own files, anywhere). */
export async function probeFiles(files: string[], concurrency: number): Promise<ImageProbe[]> {
  return probeAll(files, concurrency, () => {}, async () => undefined);
}

async function probeAll(
  files: string[], concurrency: number, onProbed: () => void, refuse: (file: string) => Promise<ImageProbe | undefined>,
): Promise<ImageProbe[]> {
  const limit = pLimit(concurrency);
  const probe = async (file: string) => (await refuse(file)) ?? probeImage(file);
  const probes = await Promise.all(files.map((file) => limit(async () => {
    const p = await probe(file);
    onProbed();
    return p;
  })));
  // libvips keeps one process-wide error buffer: while other images decode, a failure's message can be
  // lost ("Unknown error") or vary run to run. Probe the (rare) failures again one at a time, so the
  // reject detail is informative and the rejects table deterministic.
  for (let i = 0; i < files.length; i++) {
    if (!probes[i].ok) probes[i] = await probe(files[i]);
  }
  return probes;
}

/**
 * What is wrong with an image, or its facts. The first bytes decide between "not an image we read" (unsupported
 * image format: no known signature, or a format outside IMAGE_FORMATS) and "an image that does not decode"
 * (corrupt or truncated: a valid JPEG/PNG/WebP signature over bytes sharp cannot read to the end).
 */
async function probeImage(file: string): Promise<ImageProbe> {
  if (!existsSync(file)) return { ok: false, reason: 'image file missing' };
  const bytes = await readFile(file);
  if (bytes.length === 0) return { ok: false, reason: 'zero-byte image file' };
  const sniffed = sniffImageFormat(bytes);
  if (sniffed && !isSupportedFormat(sniffed)) return { ok: false, reason: UNSUPPORTED, detail: `${sniffed} (supported: ${IMAGE_FORMAT_NAMES})` };
  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch (err) {
    return { ok: false, reason: sniffed ? CORRUPT : UNSUPPORTED, detail: firstLine(err) };
  }
  if (!isSupportedFormat(meta.format ?? '')) return { ok: false, reason: UNSUPPORTED, detail: `${meta.format} (supported: ${IMAGE_FORMAT_NAMES})` };
  try {
    await sharp(bytes, { failOn: 'truncated' }).raw().toBuffer();
  } catch (err) {
    return { ok: false, reason: CORRUPT, detail: firstLine(err) };
  }
  return {
    ok: true,
    sha256: sha256(bytes),
    width: meta.width ?? 0,
    height: meta.height ?? 0,
    format: meta.format!,
    bytes: bytes.length,
    orientation: meta.orientation ?? 1,
  };
}

const UNSUPPORTED = 'unsupported image format';
const CORRUPT = 'corrupt or truncated image';
const firstLine = (err: unknown) => (err as Error).message.split('\n')[0];
