/** Image id -> file on disk and its recorded sha256, from the ingest artifact's images table (as features reads them). */
import path from 'node:path';
import { catalog, resolveDatasetRoot, type Artifact } from '@caption/core';

/** An image to picture in the report; `sha256` (when known) is checked against the bytes read. */
export interface ImageFile { file: string; sha256?: string }

export async function imageFiles(ingest: Artifact): Promise<Map<string, ImageFile>> {
  const root = resolveDatasetRoot(String(ingest.manifest.extra?.datasetRoot), ingest.dir);
  const rows = await catalog.ingest.images.load(ingest);
  return new Map(rows.map((r) => [r.image_id, { file: path.join(root, r.path), sha256: r.sha256 }]));
}
