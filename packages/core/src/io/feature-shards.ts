/**
 * A features artifact's shards: `shards/shard-00000.arrow`, ... (Arrow IPC, see features.ts) and
 * `shards/index.parquet` (image_id, sha256, shard, row). While the stage runs, each shard is committed with
 * its progress record (the images it holds, the ones that failed) as one unit in the artifact's `.partial`
 * dir, so a resumed run knows exactly which shards are done; `finish` moves them into place.
 */
import { link, mkdir, rm } from 'node:fs/promises';
import pLimit from 'p-limit';
import { PipelineError } from '../errors.ts';
import type { Artifact } from './artifact.ts';
import type { ArtifactWriter } from './artifact-writer.ts';
import { TableDataset, type RowOf, type TableSchema } from './datasets.ts';
import { FeatureStore } from './feature-store.ts';
import { startHashPool } from './hash-pool.ts';
import { decodeFeatureShard, encodeFeatureShard, type FeatureShard } from './features.ts';
import { corruptArtifact } from './verify.ts';
import type { ContentStore } from '../store/content-store.ts';
import { openStore } from '../store/open-store.ts';

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
   * Every shard of the artifact in one FeatureStore, each verified (size, sha256) before it is decoded. Shards
   * are read a few at a time and hashed on worker threads (the bytes move there and back, uncopied), so
   * verifying 2 GB costs a fraction of a second more than reading it (`pnpm bench:verify`).
   */
  async loadStore(artifact: Artifact): Promise<FeatureStore> {
    const names = Object.keys(artifact.manifest.files).filter((f) => f.startsWith(`${this.dir}/`) && f.endsWith('.arrow')).sort();
    if (!names.length) throw new PipelineError('input', `no feature shards in ${artifact.file(this.dir)}`);
    const pool = startHashPool();
    const limit = pLimit(4);
    try {
      const shards = await Promise.all(names.map((name) => limit(async () => decodeOrCorrupt(await artifact.read(name, pool.hash), artifact.file(name)))));
      return FeatureStore.fromShards(shards);
    } finally {
      await pool.close();
    }
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

  /**
   * Move the committed shards to `shards/` (hard links: a kill here leaves the units whole), put them in the
   * content store (Turbo caches the manifest and index only) and write the index.
   */
  async finish(writer: ArtifactWriter, shards: number, index: readonly RowOf<S>[], store: ContentStore = openStore()): Promise<void> {
    for (let s = 0; s < shards; s++) {
      const unit = `${UNITS}/${this.shardName(s)}`;
      const target = writer.path(`${this.dir}/${this.shardName(s)}`);
      await mkdir(writer.path(this.dir), { recursive: true });
      await rm(target, { force: true });
      await link(writer.path(`${unit}/shard.arrow`), target);
      const entry = (await writer.readUnit(unit))?.entries['shard.arrow'];
      if (!entry) throw new PipelineError('internal', `shard unit ${unit} has no shard.arrow`);
      await store.putFile(target, entry);
    }
    await this.index.save(writer, index);
    await writer.remove(UNITS);
  }
}

/** A shard whose bytes match the manifest but do not parse (written by a broken writer): named, not a raw Arrow error. */
function decodeOrCorrupt(bytes: Uint8Array, file: string): FeatureShard {
  try {
    return decodeFeatureShard(bytes);
  } catch (err) {
    throw corruptArtifact({ file, problem: `not a readable Arrow feature shard (${(err as Error).message})` }, 're-run its stage with `caption run --force`');
  }
}
