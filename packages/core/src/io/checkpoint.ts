/**
 * A checkpoint's files (TF.js weights format plus what captioning needs): `model.json` (config, extra record,
 * weights manifest), `weights.bin` (kept in the content store too) and `vocabulary.json`. Encoding a model into them is the model code's job;
 * this dataset only moves verified bytes.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { expandEnv } from '../config/env.ts';
import { PipelineError } from '../errors.ts';
import { sha256 } from '../hash.ts';
import { repoRoot } from '../paths.ts';
import type { ContentStore } from '../store/content-store.ts';
import { openStore } from '../store/open-store.ts';
import { openArtifact, type Artifact } from './artifact.ts';
import type { ArtifactWriter, Unit } from './artifact-writer.ts';
import { MANIFEST_FILE } from './manifest.ts';
import { displayPath } from './verify.ts';

export const CHECKPOINT_FILES = ['model.json', 'weights.bin', 'vocabulary.json'] as const;
export type CheckpointFiles = Record<(typeof CHECKPOINT_FILES)[number], Uint8Array | string>;

export class CheckpointDataset {
  constructor(readonly name: string) {}

  /** The checkpoint inside an opened train artifact, every file verified. */
  async load(artifact: Artifact): Promise<CheckpointFiles> {
    return readAll((f) => artifact.read(`${this.name}/${f}`));
  }

  /**
   * The weights also go to the content store: Turbo caches the small files only (turbo.json leaves
   * `weights.bin` out), and opening the artifact in another clone fetches them by hash.
   */
  async save(writer: ArtifactWriter, files: CheckpointFiles, store: ContentStore = openStore()): Promise<void> {
    for (const f of CHECKPOINT_FILES) await writer.write(`${this.name}/${f}`, files[f]);
    const weights = files['weights.bin'];
    await store.putBytes(typeof weights === 'string' ? Buffer.from(weights) : weights);
  }

  /** The checkpoint inside a unit (an epoch checkpoint's `<prefix>model.json`, ...), verified against the unit. */
  loadUnit(unit: Unit, prefix = ''): Promise<CheckpointFiles> {
    return readAll((f) => unit.read(`${prefix}${f}`));
  }

  /**
   * A checkpoint directory named by path (`caption predict --checkpoint`), verified against the manifest of the
   * artifact holding it: `<dir>/../manifest.json` listing `<name>/model.json`, ... (a train artifact's
   * `checkpoint/`; returned as `artifact`), or `<dir>/manifest.json`. `unverified` is set when neither exists (a
   * copied directory).
   */
  async loadDir(dir: string): Promise<{ files: CheckpointFiles; unverified: boolean; artifact?: Artifact }> {
    if (!existsSync(path.join(dir, 'model.json'))) {
      throw new PipelineError('input', `no checkpoint at ${displayPath(dir)} (missing model.json)`);
    }
    const parent = path.dirname(dir);
    const base = path.basename(dir);
    if (existsSync(path.join(parent, MANIFEST_FILE))) {
      const artifact = await openArtifact(parent);
      if (artifact.has(`${base}/model.json`)) return { files: await readAll((f) => artifact.read(`${base}/${f}`)), unverified: false, artifact };
    }
    if (existsSync(path.join(dir, MANIFEST_FILE))) {
      const artifact = await openArtifact(dir);
      return { files: await readAll((f) => artifact.read(f)), unverified: false };
    }
    const missing = CHECKPOINT_FILES.filter((f) => !existsSync(path.join(dir, f)));
    if (missing.length) throw new PipelineError('input', `checkpoint ${displayPath(dir)} lacks ${missing.join(', ')}`);
    return { files: await readAll((f) => readFile(path.join(dir, f))), unverified: true };
  }
}

/**
 * The checkpoint directory a path names: a checkpoint directory itself, or a train artifact holding one in
 * `checkpoint/` (repo-relative, `${VAR}` expanded).
 */
export function checkpointDirOf(spec: string): string {
  const p = path.resolve(repoRoot(), expandEnv(spec));
  const inner = path.join(p, 'checkpoint');
  return !existsSync(path.join(p, 'model.json')) && existsSync(path.join(inner, 'model.json')) ? inner : p;
}

/** A checkpoint's content hash: each file's name and sha256, in order. Same files, same digest, wherever they sit. */
export function checkpointDigest(files: CheckpointFiles): string {
  return sha256(CHECKPOINT_FILES.map((f) => `${f} ${sha256(files[f])}\n`).join(''));
}

async function readAll(read: (file: string) => Promise<Uint8Array>): Promise<CheckpointFiles> {
  const [model, weights, vocabulary] = await Promise.all(CHECKPOINT_FILES.map(read));
  const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');
  return { 'model.json': text(model), 'weights.bin': weights, 'vocabulary.json': text(vocabulary) };
}
