/**
 * Incremental extraction: rows of the previous features artifact whose image content (sha256) is
 * unchanged and whose backbone config (backbone, weights, preprocessing, engine, dtype) is identical are
 * copied instead of recomputed. Previous shards are read (and verified) one at a time, so memory stays at
 * about one shard. A previous artifact that does not verify is not reused: its rows are recomputed.
 */
import { canonicalJson, catalog, createLogger, openStage, type Artifact, type FeatureIndexRow } from '@caption/core';

export type StoredRow = Uint16Array | Float32Array;

export interface Reusable {
  has(sha256: string): boolean;
  /** Stored rows (float16 bits or float32) for these hashes, in any order. */
  take(sha256s: string[]): Promise<Map<string, StoredRow>>;
  size: number;
}

const shards = catalog.features.shards;

export async function openReusable(prevDir: string, config: Record<string, unknown>): Promise<Reusable | undefined> {
  let prev: Artifact;
  let index: FeatureIndexRow[];
  try {
    prev = await openStage('features', prevDir);
    if (canonicalJson(prev.manifest.extra?.config) !== canonicalJson(config) || !prev.has(shards.index.name)) return undefined;
    index = await shards.index.load(prev);
  } catch (err) {
    // no previous artifact (the usual case), or one that no longer verifies: nothing to reuse
    if (!/no artifact at/.test((err as Error).message)) createLogger('features').warn(`previous artifact not reused: ${(err as Error).message}`);
    return undefined;
  }
  const where = new Map(index.map((r) => [r.sha256, r]));
  return {
    size: where.size,
    has: (sha) => where.has(sha),
    async take(shas) {
      const byShard = new Map<string, string[]>();
      for (const sha of shas) {
        const at = where.get(sha);
        if (at) byShard.set(at.shard, [...(byShard.get(at.shard) ?? []), sha]);
      }
      const out = new Map<string, StoredRow>();
      for (const [shard, wanted] of byShard) {
        const s = await shards.loadShard(prev, shard);
        const per = s.shape[0] * s.shape[1];
        for (const sha of wanted) {
          const row = where.get(sha)!.row;
          out.set(sha, s.data.slice(row * per, (row + 1) * per));
        }
      }
      return out;
    },
  };
}
