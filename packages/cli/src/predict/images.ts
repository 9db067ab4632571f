/**
 * The images `caption predict` is given: command-line paths -> files (a directory stands for its JPEG, PNG
 * and WebP files, sorted; every other entry is named as skipped, with why), each checked the way ingest checks
 * a data set's images (exists, not empty, a supported format, decodes to the end), so an unreadable one is
 * named with its reason and the others still get captions.
 */
import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { IMAGE_EXTENSIONS, IMAGE_FORMAT_NAMES } from '@caption/core';
import { probeFiles } from '@caption/ingest';

export type ImageInput = { file: string; ok: true; sha256: string } | { file: string; ok: false; reason: string };
export interface SkippedEntry { file: string; reason: string }

/**
 * Paths as given -> files in argument order; a directory contributes its image files (by extension, sorted,
 * not recursive, links followed), one without any is an input that failed. Everything else in a directory
 * is skipped, and named.
 */
export async function expandPaths(paths: string[]): Promise<{ files: string[]; failed: SkippedEntry[]; skipped: SkippedEntry[] }> {
  const files: string[] = [];
  const failed: SkippedEntry[] = [];
  const skipped: SkippedEntry[] = [];
  for (const p of paths) {
    if (!(existsSync(p) && statSync(p).isDirectory())) {
      files.push(p);
      continue;
    }
    const names = (await readdir(p)).sort();
    const images = names.filter((name) => {
      const why = skipReason(path.join(p, name), name);
      if (why) skipped.push({ file: path.join(p, name), reason: why });
      return !why;
    });
    if (!images.length) failed.push({ file: p, reason: `directory without ${IMAGE_FORMAT_NAMES} files (.jpg, .jpeg, .png, .webp)` });
    files.push(...images.map((name) => path.join(p, name)));
  }
  return { files, failed, skipped };
}

/** Why a directory entry is not captioned, or undefined for an image file (a link counts as what it points to). */
function skipReason(file: string, name: string): string | undefined {
  if (name.startsWith('.')) return 'hidden file';
  if (!existsSync(file)) return 'a link to nothing';
  if (statSync(file).isDirectory()) return 'a folder (folders inside a directory are not searched)';
  if (!IMAGE_EXTENSIONS.test(name)) {
    const ext = path.extname(name).toLowerCase();
    return ext === '.gif' ? `GIF is not a supported format (${IMAGE_FORMAT_NAMES})` : `not a ${IMAGE_FORMAT_NAMES} file name (${ext || 'no extension'})`;
  }
  return undefined;
}

export async function openImages(files: string[], concurrency = 4): Promise<ImageInput[]> {
  const probes = await probeFiles(files.map((f) => path.resolve(f)), concurrency);
  return files.map((file, i): ImageInput => {
    const probe = probes[i];
    if (!probe.ok) {
      // ingest's reasons, worded for a single file; the detail (sharp's message, or the format found) says what it found
      if (probe.reason === 'unsupported image format' && probe.detail?.includes('supported:')) return { file, ok: false, reason: `unsupported image format: ${probe.detail}` };
      const reason = READABLE_REASONS[probe.reason] ?? probe.reason;
      return { file, ok: false, reason: probe.detail ? `${reason} (${probe.detail})` : reason };
    }
    return { file, ok: true, sha256: probe.sha256 };
  });
}

const READABLE_REASONS: Record<string, string> = {
  'image file missing': 'no such file',
  'zero-byte image file': 'empty file (0 bytes)',
  'unsupported image format': 'not an image',
  'corrupt or truncated image': 'corrupt or truncated image',
};
