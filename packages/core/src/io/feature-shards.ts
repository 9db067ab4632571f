/**
 * A features artifact's shards: `shards/shard-00000.arrow`, ... (Arrow IPC, see features.ts) and
 * `shards/index.parquet` (image_id, sha256, shard, row). While the stage runs, each shard is committed with
 * its progress record (the images it holds, the ones that failed) as one unit in the artifact's `.partial`
 * dir, so a resumed run knows exactly which shards are done; `finish` moves them into place.
 */
import { webcrypto } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { PipelineError } from '../errors.ts';
import type { Artifact } from './artifact.ts';
import type { ArtifactWriter } from './artifact-writer.ts';
import { TableDataset, type RowOf, type TableSchema } from './datasets.ts';
import { FeatureStore } from './feature-store.ts';
import { decodeFeatureShard, encodeFeatureShard, type FeatureShard } from './features.ts';
import { corruptArtifact } from './verify.ts';

const UNITS = '.shards';

/** What a committed shard unit records besides the shard itself. */
export interface ShardProgress {
  images: string[];                                // image ids in the shard, in row order
  failed: { image_id: string; reason: string }[];  // planned images that could not be decoded
}

export class FeatureShardsDataset<S extends TableSchema> {
  readonly index: TableDataset<S>;
  constructor(readonly dir: string, indexSchema: S) {
    this.index = new TableDataset(`${dir}/index.parquet`, indexSchema);
  }

  shardName(s: number): string {
    return `shard-${String(s).padStart(5, '0')}.arrow`;
  }

  /** One shard, verified. */
  async loadShard(artifact: Artifact, shard: string): Promise<FeatureShard> {
    return decodeFeatureShard(await artifact.read(`${this.dir}/${shard}`));
  }

  /**
   * Every shard of the artifact in one FeatureStore. Each file's size is checked before it is read and its
   * sha256 computed on the thread pool while the next one is read and decoded, so verifying costs little
   * wall time; nothing is returned before every hash matched.
   */
  async loadStore(artifact: Artifact): Promise<FeatureStore> {
    const names = Object.keys(artifact.manifest.files).filter((f) => f.startsWith(`${this.dir}/`) && f.endsWith('.arrow')).sort();
    if (!names.length) throw new PipelineError('input', `no feature shards in ${artifact.file(this.dir)}`);
    const shards: FeatureShard[] = [];
    // settled as `undefined` or the error, never rejected: a mismatch found early must wait for the loop, not crash it
    const hashes: Promise<Error | undefined>[] = [];
    for (const name of names) {
      const file = artifact.file(name);
      const entry = artifact.manifest.files[name];
      if (!existsSync(file)) throw corruptArtifact({ file, problem: 'missing (listed in the manifest)' });
      const size = (await stat(file)).size;
      if (size !== entry.bytes) throw corruptArtifact({ file, problem: `${size} bytes != ${entry.bytes} (manifest)` });
      const bytes = await readFile(file);
      hashes.push(webcrypto.subtle.digest('SHA-256', bytes).then((d) => {
        const found = Buffer.from(d).toString('hex');
        return found === entry.sha256 ? undefined : corruptArtifact({ file, problem: `sha256 ${found} != ${entry.sha256} (manifest)` });
      }, (err: Error) => err));
      shards.push(await decodeOrCorrupt(bytes, file, hashes));
    }
    await firstError(hashes);
    return FeatureStore.fromShards(shards);
  }

  /** Commit shard `s` and its progress record as one unit. */
  async saveUnit(writer: ArtifactWriter, s: number, shard: FeatureShard, progress: ShardProgress): Promise<void> {
    await writer.commitUnit(`${UNITS}/${this.shardName(s)}`, {
      'shard.arrow': encodeFeatureShard(shard),
      'progress.json': JSON.stringify(progress),
    });
  }

  /** The progress record of shard `s` when a previous (interrupted) run committed it, else undefined. */
  async loadUnit(writer: ArtifactWriter, s: number): Promise<ShardProgress | undefined> {
    const unit = await writer.readUnit(`${UNITS}/${this.shardName(s)}`);
    return unit ? (JSON.parse(await unit.readText('progress.json')) as ShardProgress) : undefined;
  }

  /** Move the committed shards to `shards/` (hard links: a kill here leaves the units whole) and write the index. */
  async finish(writer: ArtifactWriter, shards: number, index: readonly RowOf<S>[]): Promise<void> {
    for (let s = 0; s < shards; s++) {
      const target = writer.path(`${this.dir}/${this.shardName(s)}`);
      await mkdir(writer.path(this.dir), { recursive: true });
      await rm(target, { force: true });
      await link(writer.path(`${UNITS}/${this.shardName(s)}/shard.arrow`), target);
    }
    await this.index.save(writer, index);
    await writer.remove(UNITS);
  }
}

/** A shard that does not parse is reported as corrupt, after its hash (the likelier explanation) is checked. */
async function decodeOrCorrupt(bytes: Uint8Array, file: string, hashes: Promise<Error | undefined>[]): Promise<FeatureShard> {
  try {
    return decodeFeatureShard(bytes);
  } catch (err) {
    await firstError(hashes);
    throw corruptArtifact({ file, problem: `not a readable Arrow feature shard (${(err as Error).message})` });
  }
}

async function firstError(checks: Promise<Error | undefined>[]): Promise<void> {
  const error = (await Promise.all(checks)).find((e) => e !== undefined);
  if (error) throw error;
}
