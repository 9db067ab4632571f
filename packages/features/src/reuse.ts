/**
 * Incremental extraction: rows of the previous features artifact whose image content (sha256) is
 * unchanged and whose backbone config (backbone, weights, preprocessing, engine, dtype) is identical are
 * copied instead of recomputed. Previous shards are read one at a time, so memory stays at ~one shard.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { canonicalJson, openArtifact, ParquetDataset, readFeatureShard, tableRows } from '@caption/core';

export type StoredRow = Uint16Array | Float32Array;

export interface Reusable {
  has(sha256: string): boolean;
  /** Stored rows (float16 bits or float32) for these hashes, in any order. */
  take(sha256s: string[]): Promise<Map<string, StoredRow>>;
  size: number;
}

export async function openReusable(prevDir: string, config: Record<string, unknown>): Promise<Reusable | undefined> {
  if (!existsSync(path.join(prevDir, 'manifest.json')) || !existsSync(path.join(prevDir, 'shards', 'index.parquet'))) return undefined;
  const prev = await openArtifact(prevDir, 'features');
  if (canonicalJson(prev.manifest.extra?.config) !== canonicalJson(config)) return undefined;
  const index = tableRows<{ sha256: string; shard: string; row: number }>(
    await new ParquetDataset(path.join(prevDir, 'shards', 'index.parquet')).load(),
  );
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
        const s = await readFeatureShard(path.join(prevDir, 'shards', shard));
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
