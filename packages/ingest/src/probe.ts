/**
 * Reading the data set directory: text files, the image folder listing, and one probe per image
 * (sha256 of the bytes, then sharp's header read and a full decode, which catches truncated files).
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import sharp from 'sharp';
import { sha256 } from '@caption/core';
import type { ImageProbe } from './rows.ts';

export async function readTextIfExists(root: string, rel: string): Promise<string | undefined> {
  const file = path.join(root, rel);
  return existsSync(file) ? readFile(file, 'utf8') : undefined;
}

export async function listImageFiles(root: string, imageDir: string): Promise<string[]> {
  const entries = await readdir(path.join(root, imageDir), { withFileTypes: true });
  return entries.filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name).sort();
}

export async function probeImages(
  root: string,
  imageDir: string,
  imageIds: Iterable<string>,
  concurrency: number,
): Promise<Map<string, ImageProbe>> {
  const limit = pLimit(concurrency);
  const ids = [...new Set(imageIds)];
  const probes = await Promise.all(ids.map((id) => limit(() => probeImage(path.join(root, imageDir, id)))));
  // libvips keeps one process-wide error buffer: while other images decode, a failure's message can be
  // lost ("Unknown error") or vary run to run. Probe the (rare) failures again one at a time, so the
  // reject reason is informative and the rejects table deterministic.
  for (let i = 0; i < ids.length; i++) {
    if (!probes[i].ok) probes[i] = await probeImage(path.join(root, imageDir, ids[i]));
  }
  return new Map(ids.map((id, i) => [id, probes[i]]));
}

async function probeImage(file: string): Promise<ImageProbe> {
  if (!existsSync(file)) return { ok: false, reason: 'image file missing' };
  const bytes = await readFile(file);
  if (bytes.length === 0) return { ok: false, reason: 'zero-byte image file' };
  try {
    const meta = await sharp(bytes).metadata();
    // A full decode: header-only reads accept truncated JPEGs.
    await sharp(bytes, { failOn: 'truncated' }).raw().toBuffer();
    return {
      ok: true,
      sha256: sha256(bytes),
      width: meta.width ?? 0,
      height: meta.height ?? 0,
      format: meta.format ?? 'unknown',
      bytes: bytes.length,
    };
  } catch (err) {
    return { ok: false, reason: `corrupt or unsupported image: ${(err as Error).message.split('\n')[0]}` };
  }
}
