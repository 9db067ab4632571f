/**
 * Files a process needs by path — where this machine has them — or else by hash from the store, copied to a
 * temp dir for as long as the caller needs them (a worker on a machine without the data set's directory).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PipelineError } from '../errors.ts';
import type { ContentStore } from './content-store.ts';

export interface Wanted { file: string; sha256: string; bytes?: number }

export async function localCopies<T extends Wanted>(store: ContentStore, wanted: T[], where: string): Promise<{ files: T[]; cleanup(): Promise<void> }> {
  const missing = wanted.filter((w) => !existsSync(w.file) && w.bytes !== undefined);
  if (!missing.length) return { files: wanted, cleanup: async () => undefined };
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'caption-copies-'));
  const files: T[] = [];
  for (const w of wanted) {
    if (!missing.includes(w)) {
      files.push(w);
      continue;
    }
    const file = path.join(tmp, w.sha256);
    if (!(await store.fetchTo({ sha256: w.sha256, bytes: w.bytes! }, file))) {
      await rm(tmp, { recursive: true, force: true });
      throw new PipelineError('input', `${w.file}: not on ${where} and not in the store ${store.location}`);
    }
    files.push({ ...w, file });
  }
  return { files, cleanup: () => rm(tmp, { recursive: true, force: true }) };
}
