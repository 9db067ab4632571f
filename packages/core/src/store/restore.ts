/**
 * Files an artifact's manifest lists but its directory lacks (a Turbo restore brings back the manifest and
 * the small files, not the large ones it keeps out of its cache) are fetched from the store by hash and
 * verified on the way in.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Manifest } from '../io/manifest.ts';
import { checkFile } from '../io/verify.ts';
import { createLogger } from '../log.ts';
import type { ContentStore } from './content-store.ts';
import { openStore } from './open-store.ts';

/** Fetch the missing files the store has; returns how many and how many bytes. */
export async function restoreFromStore(dir: string, manifest: Manifest, store: ContentStore = openStore()): Promise<{ files: number; bytes: number }> {
  const missing = Object.entries(manifest.files).filter(([name]) => !existsSync(path.join(dir, name)));
  let files = 0;
  let bytes = 0;
  for (const [name, entry] of missing) {
    if (await store.fetchTo(entry, path.join(dir, name))) (files++, (bytes += entry.bytes));
  }
  if (files) createLogger('store').info(`${path.basename(dir)}: ${files} file(s), ${(bytes / 2 ** 20).toFixed(1)} MiB fetched from ${store.location}`);
  return { files, bytes };
}

/**
 * Files of the artifact that the store holds but that no longer match the manifest (a corrupted or truncated
 * shard Turbo's restore does not cover) are replaced by the store's verified copy; returns their names.
 */
export async function repairFromStore(dir: string, manifest: Manifest, store: ContentStore = openStore()): Promise<string[]> {
  const repaired: string[] = [];
  for (const [name, entry] of Object.entries(manifest.files)) {
    if (!(await store.has(entry.sha256)) || !(await checkFile(path.join(dir, name), entry))) continue;
    if (await store.fetchTo(entry, path.join(dir, name))) repaired.push(name);
  }
  if (repaired.length) createLogger('store').info(`${path.basename(dir)}: ${repaired.join(', ')} restored from ${store.location}`);
  return repaired;
}
