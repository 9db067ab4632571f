/**
 * The images `caption predict` is given: command-line paths -> files (a directory stands for its image
 * files, sorted), each checked the way ingest checks a data set's images (exists, not empty, readable
 * header, decodes to the end), so an unreadable one is named with its reason and the others still get captions.
 */
import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { probeImages } from '@caption/ingest';

export const SUPPORTED_FORMATS = ['jpeg', 'png', 'webp'];
const IMAGE_EXTENSIONS = /\.(jpe?g|png|webp)$/i;

export type ImageInput = { file: string; ok: true; sha256: string } | { file: string; ok: false; reason: string };

/**
 * Paths as given -> files in argument order; a directory contributes its image files (by extension, sorted,
 * not recursive), one without any is an input that failed.
 */
export async function expandPaths(paths: string[]): Promise<{ files: string[]; failed: { file: string; reason: string }[] }> {
  const files: string[] = [];
  const failed: { file: string; reason: string }[] = [];
  for (const p of paths) {
    if (existsSync(p) && statSync(p).isDirectory()) {
      const entries = await readdir(p, { withFileTypes: true });
      const images = entries.filter((e) => e.isFile() && !e.name.startsWith('.') && IMAGE_EXTENSIONS.test(e.name)).map((e) => e.name).sort();
      if (!images.length) failed.push({ file: p, reason: 'directory without .jpg/.jpeg/.png/.webp files' });
      files.push(...images.map((name) => path.join(p, name)));
    } else {
      files.push(p);
    }
  }
  return { files, failed };
}

export async function openImages(files: string[], concurrency = 4): Promise<ImageInput[]> {
  const probes = await probeImages('', files.map((f) => path.resolve(f)), concurrency);
  return files.map((file): ImageInput => {
    const probe = probes.get(path.resolve(file))!;
    if (!probe.ok) {
      // ingest's reasons, worded for a single file; sharp's own message (the detail) says what it found.
      const reason = READABLE_REASONS[probe.reason] ?? probe.reason;
      return { file, ok: false, reason: probe.detail ? `${reason} (${probe.detail})` : reason };
    }
    if (!SUPPORTED_FORMATS.includes(probe.format)) {
      return { file, ok: false, reason: `unsupported image format '${probe.format}' (JPEG, PNG or WebP)` };
    }
    return { file, ok: true, sha256: probe.sha256 };
  });
}

const READABLE_REASONS: Record<string, string> = {
  'image file missing': 'no such file',
  'zero-byte image file': 'empty file (0 bytes)',
  'unsupported image format': 'not an image, or an image format sharp cannot read',
  'corrupt or truncated image': 'corrupt or truncated image',
};
