/**
 * An artifact that a stage reads: its directory and manifest, and reads that verify. Every file a reader
 * opens is checked against the size and sha256 its manifest lists, so a corrupted, truncated or replaced
 * file stops the stage with its name instead of flowing into results.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { PipelineError } from '../errors.ts';
import { sha256 } from '../hash.ts';
import { startHashPool } from './hash-pool.ts';
import { MANIFEST_FILE, type FileEntry, type Manifest } from './manifest.ts';
import { openStore } from '../store/open-store.ts';
import { restoreFromStore } from '../store/restore.ts';
import { checkFile, corruptArtifact, displayPath, verifyBytes, type Corruption } from './verify.ts';

export interface Artifact {
  dir: string;
  manifest: Manifest;
  manifestHash: string;                 // sha256 of manifest.json: how downstream manifests name this one
  /** Absolute path of a file (for tools that open it themselves; prefer `read`). */
  file(name: string): string;
  /** Whether the manifest lists this file. */
  has(name: string): boolean;
  /** The file's bytes, verified against the manifest (size, then sha256; `hasher` computes it elsewhere). */
  read(name: string, hasher?: Hasher): Promise<Uint8Array>;
  readText(name: string): Promise<string>;
  /** Every listed file checked (streamed); the ones that do not match. */
  verify(): Promise<Corruption[]>;
}

/** A sha256 computed off this thread: it may take the bytes and hand back the same bytes in another view. */
export type Hasher = (bytes: Uint8Array) => Promise<{ hex: string; bytes: Uint8Array }>;

export async function openArtifact(dir: string, expectedKind?: string): Promise<Artifact> {
  const mf = path.join(dir, MANIFEST_FILE);
  if (!existsSync(mf)) {
    throw new PipelineError('input', `no artifact at ${dir} (missing ${MANIFEST_FILE}): run its stage first`);
  }
  const text = await readFile(mf, 'utf8');
  const manifest = parseManifest(text, mf);
  // large files are kept out of Turbo's cache: a restored artifact gets them back from the store by hash
  if (Object.keys(manifest.files).some((name) => !existsSync(path.join(dir, name)))) await restoreFromStore(dir, manifest);
  if (expectedKind && manifest.kind !== expectedKind) {
    throw new PipelineError('input', `${dir} holds a '${manifest.kind}' artifact, expected '${expectedKind}'`);
  }
  const file = (name: string) => path.join(dir, name);
  const entry = (name: string): FileEntry => {
    const e = manifest.files[name];
    if (!e) throw new PipelineError('input', `${displayPath(dir)}: its manifest lists no file '${name}' (a ${manifest.kind} artifact of schema ${manifest.schemaVersion}): re-run its stage`);
    return e;
  };
  const read = async (name: string, hasher?: Hasher) => {
    const e = entry(name);
    if (!existsSync(file(name))) throw corruptArtifact({ file: file(name), problem: `missing (listed in the manifest; not in the store ${openStore().location} either)` });
    const bytes = await readFile(file(name));
    if (!hasher || bytes.byteLength !== e.bytes) {
      verifyBytes(file(name), bytes, e);
      return bytes;
    }
    const hashed = await hasher(bytes);
    if (hashed.hex !== e.sha256) throw corruptArtifact({ file: file(name), problem: `sha256 ${hashed.hex} != ${e.sha256} (manifest)` });
    return hashed.bytes;
  };
  return {
    dir,
    manifest,
    manifestHash: sha256(text),
    file,
    has: (name) => name in manifest.files,
    read,
    readText: async (name) => Buffer.from(await read(name)).toString('utf8'),
    async verify() {
      // large files are read whole (two at a time) and hashed on worker threads; small ones streamed here
      const pool = startHashPool();
      const limit = pLimit(2);
      try {
        const names = Object.keys(manifest.files).sort();
        const problems = await Promise.all(names.map((name) => limit(async () => {
          const e = manifest.files[name];
          if (e.bytes < LARGE || !existsSync(file(name)) || statSync(file(name)).size !== e.bytes) return checkFile(file(name), e);
          return read(name, pool.hash).then(() => undefined, (err: Error) => ({ file: file(name), problem: problemOf(err) }));
        })));
        return problems.filter((p): p is Corruption => p !== undefined);
      } finally {
        await pool.close();
      }
    },
  };
}

const LARGE = 1 << 20;
/** The `<problem>` of a `corrupt artifact: <file>: <problem>; <hint>` error. */
const problemOf = (err: Error) => /^corrupt artifact: .*?: (.*); /.exec(err.message)?.[1] ?? err.message;

function parseManifest(text: string, file: string): Manifest {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(text) as Manifest;
  } catch (err) {
    throw corruptArtifact({ file, problem: `not valid JSON (${(err as Error).message})` });
  }
  if (!manifest || typeof manifest !== 'object' || typeof manifest.files !== 'object' || typeof manifest.kind !== 'string') {
    throw corruptArtifact({ file, problem: 'not a manifest (no kind or files)' });
  }
  return manifest;
}
