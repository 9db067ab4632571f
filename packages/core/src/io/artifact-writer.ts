/**
 * Writing an artifact: everything goes to a temp dir (`<dir>.tmp-<pid>`, or `<dir>.partial` for a stage that
 * resumes) and the whole directory is committed at once (manifest with every file's hash, fsync, rename).
 * Inside, a multi-file unit that a resume relies on (an epoch checkpoint, a shard with its index rows) is
 * committed the same way: `commitUnit` writes it complete, with a `.unit.json` of its files' hashes, or not at all.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError } from '../errors.ts';
import { canonicalJson, sha256, sha256File } from '../hash.ts';
import { commitDirectory, recoverDirectory, removeDeadTemps } from './atomic.ts';
import { MANIFEST_FILE, type FileEntry, type Manifest, type ManifestDraft } from './manifest.ts';
import { corruptArtifact, verifyBytes } from './verify.ts';

const RESUME_KEY_FILE = '.resume-key';
const UNIT_FILE = '.unit.json';
const UNFINISHED = /\.(writing|tmp-\d+)$/;   // names of files and units cut off by a kill

/** A committed unit: its file names and verified reads. */
export interface Unit {
  name: string;
  files: string[];
  entries: Record<string, FileEntry>;   // size and sha256 of each file, as committed
  read(file: string): Promise<Uint8Array>;
  readText(file: string): Promise<string>;
}

export class ArtifactWriter {
  private constructor(readonly finalDir: string, readonly tmpDir: string, readonly resumed: boolean) {}

  /**
   * Without `resumeKey`: a fresh `<dir>.tmp-<pid>`. With it: `<dir>.partial`, kept from an interrupted run
   * when that run had the same key (same params and upstream), so the stage can skip finished units.
   */
  static async open(finalDir: string, opts: { resumeKey?: string } = {}): Promise<ArtifactWriter> {
    await recoverDirectory(finalDir); // a kill between the two renames of a commit left the old one aside
    await removeDeadTemps(finalDir);
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
      await removeUnfinished(tmpDir);
    } else {
      await rm(tmpDir, { recursive: true, force: true });
      await mkdir(tmpDir, { recursive: true });
      await writeFile(keyFile, opts.resumeKey);
    }
    return new ArtifactWriter(finalDir, tmpDir, resumed);
  }

  /** Whether a file or committed unit from an interrupted run is already there. */
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

  /** Commit `files` as the unit `name` (a directory): all of them, with their hashes, or none. */
  async commitUnit(name: string, files: Record<string, Uint8Array | string>): Promise<void> {
    const tmp = `${this.path(name)}.tmp-${process.pid}`;
    await rm(tmp, { recursive: true, force: true });
    const listing: Record<string, FileEntry> = {};
    for (const [file, data] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(tmp, file)), { recursive: true });
      await writeFile(path.join(tmp, file), data);
      listing[file] = { sha256: sha256(data), bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength };
    }
    await writeFile(path.join(tmp, UNIT_FILE), canonicalJson(listing));
    await commitDirectory(tmp, this.path(name));
  }

  /** A committed unit, or undefined when there is none by that name. Reads verify against its `.unit.json`. */
  async readUnit(name: string): Promise<Unit | undefined> {
    const dir = this.path(name);
    if (!existsSync(path.join(dir, UNIT_FILE))) return undefined;
    const listing = JSON.parse(await readFile(path.join(dir, UNIT_FILE), 'utf8')) as Record<string, FileEntry>;
    const read = async (file: string) => {
      const entry = listing[file];
      if (!entry) throw new PipelineError('internal', `unit ${name} has no file ${file}`);
      const abs = path.join(dir, file);
      if (!existsSync(abs)) throw corruptArtifact({ file: abs, problem: 'missing (listed in the unit)' }, 'delete the .partial directory to start over');
      const bytes = await readFile(abs);
      verifyBytes(abs, bytes, entry);
      return bytes;
    };
    return { name, files: Object.keys(listing).sort(), entries: listing, read, readText: async (f) => Buffer.from(await read(f)).toString('utf8') };
  }

  /** Names (relative to `dir`) of the committed units directly inside `dir`, sorted. */
  async listUnits(dir: string): Promise<string[]> {
    if (!existsSync(this.path(dir))) return [];
    const names = await readdir(this.path(dir));
    return names.filter((n) => existsSync(path.join(this.path(dir), n, UNIT_FILE))).sort();
  }

  /** Hash every file, write manifest.json, swap the temp dir into place. Returns the manifest. */
  async commit(draft: ManifestDraft): Promise<Manifest> {
    await rm(path.join(this.tmpDir, RESUME_KEY_FILE), { force: true });
    await removeUnfinished(this.tmpDir);
    const files: Record<string, FileEntry> = {};
    for (const rel of (await listFiles(this.tmpDir)).sort()) {
      if (rel === MANIFEST_FILE) continue;
      const abs = path.join(this.tmpDir, rel);
      files[rel] = { sha256: await sha256File(abs), bytes: (await stat(abs)).size };
    }
    const manifest: Manifest = { ...draft, files };
    await writeFile(this.path(MANIFEST_FILE), canonicalJson(manifest));
    await commitDirectory(this.tmpDir, this.finalDir);
    return manifest;
  }

  async abort(): Promise<void> {
    await rm(this.tmpDir, { recursive: true, force: true });
  }
}

/** Drop files and unit dirs that never got their final name (cut off by a kill), at any depth. */
async function removeUnfinished(dir: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (UNFINISHED.test(e.name)) await rm(p, { recursive: true, force: true });
    else if (e.isDirectory()) await removeUnfinished(p);
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
