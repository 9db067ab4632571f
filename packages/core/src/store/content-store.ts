/**
 * The content-addressed store: large files (feature shards) kept by their sha256, so an artifact's Turbo
 * output needs only its manifest (which lists every file's hash) and a clone, a worker or another machine
 * gets the bytes by hash. Every read and write is verified against the hash; an object is complete or
 * absent. Refs are small JSON records under a name (what a shard job produced), so work done once is
 * found again by any clone that shares the store.
 */
import { PipelineError } from '../errors.ts';
import type { FileEntry } from '../io/manifest.ts';

export interface ContentStore {
  /** Where it is, for messages: a directory or s3://bucket/prefix. */
  readonly location: string;
  has(sha256: string): Promise<boolean>;
  /** Store a file whose entry (size, sha256) is known; the copy is verified before it gets its name. */
  putFile(file: string, entry: FileEntry): Promise<void>;
  /** Store bytes; returns their entry. */
  putBytes(bytes: Uint8Array): Promise<FileEntry>;
  /** The object's bytes, verified; undefined when the store does not have it. */
  get(entry: FileEntry): Promise<Uint8Array | undefined>;
  /** Copy the object to `dest` (temp name, verify, rename); false when the store does not have it. */
  fetchTo(entry: FileEntry, dest: string): Promise<boolean>;
  getRef<T>(namespace: string, key: string): Promise<T | undefined>;
  putRef(namespace: string, key: string, value: unknown): Promise<void>;
}

/** `<root>/sha256/ab/cdef…`: two hex digits of fan-out keep directories small at COCO scale. */
export const objectKey = (sha256: string) => `sha256/${sha256.slice(0, 2)}/${sha256.slice(2)}`;
export const refKey = (namespace: string, key: string) => `refs/${namespace}/${key}.json`;

export function assertSha256(sha: string): void {
  if (!/^[0-9a-f]{64}$/.test(sha)) throw new Error(`not a sha256: ${sha}`);
}

/** An object (or a file claimed to be one) whose bytes are not the ones its hash names. */
export const damaged = (file: string, entry: FileEntry, found: string, bytes: number) => new PipelineError('input',
  `content store: ${file} is ${bytes} bytes with sha256 ${found}, expected ${entry.bytes} bytes with sha256 ${entry.sha256}; ` +
  'delete that file (the store refetches or recomputes it)');
