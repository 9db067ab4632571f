/**
 * A local cache of derived files (`.caption/cache/`: e.g. an ONNX graph built from a backbone's weights). An
 * entry is written atomically beside the sha256 of its bytes and checked on every read; one that does not
 * match (a disk error, a cut-off copy) is rebuilt instead of used. Entries are named by what they derive from.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256 } from '../hash.ts';
import { repoRoot } from '../paths.ts';
import { writeFileAtomic } from './atomic.ts';

export const cacheDir = (root = repoRoot()) => path.join(root, '.caption', 'cache');

/** The cached bytes of `name` (e.g. `onnx/<key>.onnx`), built by `build` when absent or not intact. */
export async function cached(name: string, build: () => Uint8Array | Promise<Uint8Array>, root?: string): Promise<Uint8Array> {
  const file = path.join(cacheDir(root), name);
  if (existsSync(file) && existsSync(`${file}.sha256`)) {
    const bytes = await readFile(file);
    if (sha256(bytes) === (await readFile(`${file}.sha256`, 'utf8')).trim()) return bytes;
  }
  const bytes = await build();
  await writeFileAtomic(file, bytes);
  await writeFileAtomic(`${file}.sha256`, `${sha256(bytes)}\n`);
  return bytes;
}
