/**
 * Artifact directories, written atomically: everything goes to `<dir>.tmp-<pid>` and is renamed into place
 * only once the manifest (with every file's hash) is written. A crash leaves the old artifact intact.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PipelineError } from '../errors.ts';
import { canonicalJson, sha256, sha256File } from '../hash.ts';
import { MANIFEST_FILE, type FileEntry, type Manifest, type ManifestDraft } from './manifest.ts';

const RESUME_KEY_FILE = '.resume-key';

export class ArtifactWriter {
  private constructor(readonly finalDir: string, readonly tmpDir: string, readonly resumed: boolean) {}

  /**
   * Without `resumeKey`: a fresh `<dir>.tmp-<pid>`. With it: `<dir>.partial`, kept from an interrupted run
   * when that run had the same key (same params and upstream), so the stage can skip finished parts.
   */
  static async open(finalDir: string, opts: { resumeKey?: string } = {}): Promise<ArtifactWriter> {
    if (!opts.resumeKey) {
      const tmpDir = `${finalDir}.tmp-${process.pid}`;
      await rm(tmpDir, { recursive: true, force: true });
      await mkdir(tmpDir, { recursive: true });
      return new ArtifactWriter(finalDir, tmpDir, false);
    }
    const tmpDir = `${finalDir}.partial`;
    const keyFile = path.join(tmpDir, RESUME_KEY_FILE);
    const resumed = existsSync(keyFile) && (await readFile(keyFile, 'utf8')) === opts.resumeKey;
    if (resumed) {
      // A file cut off by the interruption never got its final name; drop it.
      for (const rel of await listFiles(tmpDir)) if (rel.endsWith('.writing')) await rm(path.join(tmpDir, rel));
    } else {
      await rm(tmpDir, { recursive: true, force: true });
      await mkdir(tmpDir, { recursive: true });
      await writeFile(keyFile, opts.resumeKey);
    }
    return new ArtifactWriter(finalDir, tmpDir, resumed);
  }

  /** Whether a finished part from an interrupted run is already there. */
  has(name: string): boolean {
    return existsSync(this.path(name));
  }

  /** Path inside the temp dir, for writers that stream to disk themselves. */
  path(name: string): string {
    return path.join(this.tmpDir, name);
  }

  /** Write one file; it appears under its name only once complete (temp name + rename). */
  async write(name: string, data: Uint8Array | string): Promise<void> {
    await mkdir(path.dirname(this.path(name)), { recursive: true });
    const partial = `${this.path(name)}.writing`;
    await writeFile(partial, data);
    await rename(partial, this.path(name));
  }

  async remove(name: string): Promise<void> {
    await rm(this.path(name), { recursive: true, force: true });
  }

  /** Hash every file, write manifest.json, swap the temp dir into place. Returns the manifest. */
  async commit(draft: ManifestDraft): Promise<Manifest> {
    await rm(path.join(this.tmpDir, RESUME_KEY_FILE), { force: true });
    const files: Record<string, FileEntry> = {};
    for (const rel of (await listFiles(this.tmpDir)).sort()) {
      if (rel === MANIFEST_FILE) continue;
      const abs = path.join(this.tmpDir, rel);
      files[rel] = { sha256: await sha256File(abs), bytes: (await stat(abs)).size };
    }
    const manifest: Manifest = { ...draft, files };
    await writeFile(this.path(MANIFEST_FILE), canonicalJson(manifest));
    const old = `${this.finalDir}.old-${process.pid}`;
    if (existsSync(this.finalDir)) await rename(this.finalDir, old);
    await rename(this.tmpDir, this.finalDir);
    await rm(old, { recursive: true, force: true });
    return manifest;
  }

  async abort(): Promise<void> {
    await rm(this.tmpDir, { recursive: true, force: true });
  }
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(path.join(dir, e.name), rel)));
    else out.push(rel);
  }
  return out;
}

/** An artifact that a stage reads: its directory, manifest, and the hash that identifies it downstream. */
export interface Artifact {
  dir: string;
  manifest: Manifest;
  manifestHash: string;
  file(name: string): string;
}

export async function openArtifact(dir: string, expectedKind?: string): Promise<Artifact> {
  const mf = path.join(dir, MANIFEST_FILE);
  if (!existsSync(mf)) {
    throw new PipelineError('input', `no artifact at ${dir} (missing ${MANIFEST_FILE}): run its stage first`);
  }
  const text = await readFile(mf, 'utf8');
  const manifest = JSON.parse(text) as Manifest;
  if (expectedKind && manifest.kind !== expectedKind) {
    throw new PipelineError('input', `${dir} holds a '${manifest.kind}' artifact, expected '${expectedKind}'`);
  }
  return { dir, manifest, manifestHash: sha256(text), file: (name) => path.join(dir, name) };
}
