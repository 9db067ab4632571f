/** A seeded split by image (never by caption, so no image's captions straddle train and test). */
import { Rng } from '@caption/core';
import type { Split } from './rows.ts';

export function seededSplit(imageIds: Iterable<string>, fractions: { train: number; dev: number; test: number }, seed: number): Map<string, Split> {
  const ids = [...new Set(imageIds)].sort();
  const total = fractions.train + fractions.dev + fractions.test || 1;
  const nTrain = Math.round((ids.length * fractions.train) / total);
  const nDev = Math.round((ids.length * fractions.dev) / total);
  const order = new Rng(seed).shuffle(ids);
  return new Map(order.map((id, i) => [id, i < nTrain ? 'train' : i < nTrain + nDev ? 'dev' : 'test']));
}

export const ESCAPES = 'image path escapes the data directory';

/** A relative path that stays inside the data set directory (no `..` escape, not absolute). */
export function isContainedPath(rel: string): boolean {
  const p = rel.replace(/\\/g, '/');
  if (p.startsWith('/') || /^[A-Za-z]:\//.test(p)) return false;
  const parts: string[] = [];
  for (const part of p.split('/')) {
    if (part === '..') {
      if (!parts.length) return false;
      parts.pop();
    } else if (part && part !== '.') parts.push(part);
  }
  return parts.length > 0;
}

/**
 * `<dir>/<name>` for an image a caption file names relative to its image folder. A name that is absolute
 * or climbs out with `..` is returned as it is, so isContainedPath rejects it (joined to the folder,
 * `../x.jpg` or `/etc/passwd` would look contained and be misreported as a missing image).
 */
export function imagePath(dir: string, name: string): string {
  if (!isContainedPath(name)) return name;
  return dir ? `${dir}/${name}` : name;
}
