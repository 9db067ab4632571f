/**
 * Which store a process uses: `CAPTION_STORE` names a directory (absolute, or relative to the workspace root)
 * that every machine sharing work mounts, or `s3://bucket/prefix`; unset, it is the workspace's `.caption/store/`.
 */
import path from 'node:path';
import { repoRoot } from '../paths.ts';
import type { ContentStore } from './content-store.ts';
import { DirStore } from './dir-store.ts';
import { S3Store } from './s3-store.ts';

export const STORE_ENV = 'CAPTION_STORE';

export function openStore(spec = process.env[STORE_ENV]): ContentStore {
  if (!spec) return new DirStore(path.join(repoRoot(), '.caption', 'store'));
  if (spec.startsWith('s3://')) return new S3Store(spec);
  return new DirStore(path.resolve(repoRoot(), spec));
}
