/**
 * The store in a directory: `.caption/store/` by default, or a directory every machine mounts (NFS, a shared
 * disk). Objects are written under a temp name, verified, fsynced and renamed, so concurrent writers of the
 * same object (two workers, two clones) only ever expose complete, correct bytes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { sha256 } from '../hash.ts';
import { fsyncPath, writeFileAtomic } from '../io/atomic.ts';
import type { FileEntry } from '../io/manifest.ts';
import { assertSha256, damaged, objectKey, refKey, type ContentStore } from './content-store.ts';

export class DirStore implements ContentStore {
  constructor(readonly location: string) {}

  objectPath(sha: string): string {
    assertSha256(sha);
    return path.join(this.location, objectKey(sha));
  }

  async has(sha: string): Promise<boolean> {
    return existsSync(this.objectPath(sha));
  }

  async putFile(file: string, entry: FileEntry): Promise<void> {
    if (await this.has(entry.sha256)) return;
    await this.copyVerified(file, this.objectPath(entry.sha256), entry);
  }

  async putBytes(bytes: Uint8Array): Promise<FileEntry> {
    const entry = { sha256: sha256(bytes), bytes: bytes.byteLength };
    if (!(await this.has(entry.sha256))) await writeFileAtomic(this.objectPath(entry.sha256), bytes);
    return entry;
  }

  async get(entry: FileEntry): Promise<Uint8Array | undefined> {
    const file = this.objectPath(entry.sha256);
    if (!existsSync(file)) return undefined;
    const bytes = await readFile(file);
    const found = sha256(bytes);
    if (bytes.byteLength !== entry.bytes || found !== entry.sha256) throw damaged(file, entry, found, bytes.byteLength);
    return bytes;
  }

  async fetchTo(entry: FileEntry, dest: string): Promise<boolean> {
    const file = this.objectPath(entry.sha256);
    if (!existsSync(file)) return false;
    await this.copyVerified(file, dest, entry);
    return true;
  }

  async getRef<T>(namespace: string, key: string): Promise<T | undefined> {
    const file = path.join(this.location, refKey(namespace, key));
    return existsSync(file) ? (JSON.parse(await readFile(file, 'utf8')) as T) : undefined;
  }

  async putRef(namespace: string, key: string, value: unknown): Promise<void> {
    await writeFileAtomic(path.join(this.location, refKey(namespace, key)), JSON.stringify(value));
  }

  /** Copy (a reflink where the file system can), hash the copy, then rename it into place. */
  private async copyVerified(src: string, dest: string, entry: FileEntry): Promise<void> {
    await mkdir(path.dirname(dest), { recursive: true });
    const tmp = `${dest}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await copyFile(src, tmp);
      const [found, size] = [await hashFile(tmp), (await stat(tmp)).size];
      if (found !== entry.sha256 || size !== entry.bytes) throw damaged(src, entry, found, size);
      fsyncPath(tmp);
      await rename(tmp, dest);
      fsyncPath(path.dirname(dest));
    } finally {
      await rm(tmp, { force: true });
    }
  }
}

async function hashFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}
