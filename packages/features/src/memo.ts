/**
 * Shards computed once are found again: the rows of a list of images under one extraction config and code
 * version are kept in the content store (the shard bytes by hash, a ref naming them by the request's key).
 * A resumed run, another clone or another machine sharing the store gets those rows without recomputing;
 * a queued shard's result reaches the coordinator the same way.
 */
import { canonicalJson, decodeFeatureShard, encodeFeatureShard, sha256, type ContentStore, type FileEntry } from '@caption/core';
import type { ImageRef } from '@caption/backbones';
import type { ComputedRows } from './extraction.ts';

const NAMESPACE = 'features-rows';

/** What the ref records: the shard of the computed rows and the images that failed. */
export interface RowsRecord {
  shard: FileEntry;
  images: number;
  failed: ComputedRows['failed'];
}

export const rowsKey = (code: string, config: Record<string, unknown>, images: ImageRef[]) =>
  sha256(canonicalJson({ code, config, images: images.map((i) => [i.image_id, i.sha256]) }));

export async function saveRows(store: ContentStore, key: string, rows: ComputedRows): Promise<RowsRecord> {
  const shard = await store.putBytes(encodeFeatureShard(rows.shard));
  const record = { shard, images: rows.shard.imageIds.length, failed: rows.failed };
  await store.putRef(NAMESPACE, key, record);
  return record;
}

export const findRows = (store: ContentStore, key: string) => store.getRef<RowsRecord>(NAMESPACE, key);

/** The rows a record names, verified; undefined when the store lost the shard. */
export async function loadRows(store: ContentStore, record: RowsRecord): Promise<ComputedRows | undefined> {
  const bytes = await store.get(record.shard);
  return bytes ? { shard: decodeFeatureShard(bytes), failed: record.failed } : undefined;
}
