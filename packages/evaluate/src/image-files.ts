/** Image id -> file on disk, from the ingest artifact's images table and dataset root (as features reads them). */
import path from 'node:path';
import { ParquetDataset, resolveDatasetRoot, tableRows, type Artifact } from '@caption/core';

export async function imageFiles(ingest: Artifact): Promise<Map<string, string>> {
  const root = resolveDatasetRoot(String(ingest.manifest.extra?.datasetRoot), ingest.dir);
  const rows = tableRows<{ image_id: string; path: string }>(await new ParquetDataset(ingest.file('images.parquet')).load());
  return new Map(rows.map((r) => [r.image_id, path.join(root, r.path)]));
}
