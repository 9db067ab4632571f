/**
 * Opening the images: sha256 of the bytes, sharp's header read (size, format, EXIF orientation) and a
 * full decode, which is what catches truncated files. Failures get one of a few fixed reasons.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import sharp, { type Metadata } from 'sharp';
import { sha256 } from '@caption/core';
import type { ImageProbe } from './rows.ts';

/** Files in a folder (relative to the root, recursively not: data sets keep images flat), hidden ones skipped. */
export async function listImageFiles(root: string, imageDir: string): Promise<string[]> {
  if (!existsSync(path.join(root, imageDir))) return [];
  const entries = await readdir(path.join(root, imageDir), { withFileTypes: true });
  return entries.filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => `${imageDir}/${e.name}`).sort();
}

export async function probeImages(
  root: string, paths: Iterable<string>, concurrency: number, onProbed: () => void = () => {},
): Promise<Map<string, ImageProbe>> {
  const limit = pLimit(concurrency);
  const rels = [...new Set(paths)];
  const probes = await Promise.all(rels.map((rel) => limit(async () => {
    const probe = await probeImage(path.join(root, rel));
    onProbed();
    return probe;
  })));
  // libvips keeps one process-wide error buffer: while other images decode, a failure's message can be
  // lost ("Unknown error") or vary run to run. Probe the (rare) failures again one at a time, so the
  // reject detail is informative and the rejects table deterministic.
  for (let i = 0; i < rels.length; i++) {
    if (!probes[i].ok) probes[i] = await probeImage(path.join(root, rels[i]));
  }
  return new Map(rels.map((rel, i) => [rel, probes[i]]));
}

async function probeImage(file: string): Promise<ImageProbe> {
  if (!existsSync(file)) return { ok: false, reason: 'image file missing' };
  const bytes = await readFile(file);
  if (bytes.length === 0) return { ok: false, reason: 'zero-byte image file' };
  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch (err) {
    return { ok: false, reason: 'unsupported image format', detail: firstLine(err) };
  }
  try {
    await sharp(bytes, { failOn: 'truncated' }).raw().toBuffer();
  } catch (err) {
    return { ok: false, reason: 'corrupt or truncated image', detail: firstLine(err) };
  }
  return {
    ok: true,
    sha256: sha256(bytes),
    width: meta.width ?? 0,
    height: meta.height ?? 0,
    format: meta.format ?? 'unknown',
    bytes: bytes.length,
    orientation: meta.orientation ?? 1,
  };
}

const firstLine = (err: unknown) => (err as Error).message.split('\n')[0];
