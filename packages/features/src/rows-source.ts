/**
 * Where the rows of images that need computing come from: this process (`localRows`), or workers through the
 * queue (`queue/coordinator.ts`). Either way the result is also kept in the store (memo.ts).
 */
import type { ContentStore, Progress } from '@caption/core';
import type { ImageRef } from '@caption/backbones';
import { computeRows, type ComputedRows, type Extractor } from './extraction.ts';
import { saveRows } from './memo.ts';
import type { FeaturesParams } from './params.ts';

/** The images of shard `shard` that no earlier output holds, and the memo key of their rows. */
export interface RowsRequest {
  shard: number;
  key: string;
  images: ImageRef[];
}

export interface RowsSource {
  /** Every request of the run, before the first `rows` call (a queue enqueues them all at once). */
  start(requests: RowsRequest[]): Promise<void>;
  rows(request: RowsRequest): Promise<ComputedRows>;
  close(): Promise<void>;
}

export function localRows(x: Extractor, params: FeaturesParams, store: ContentStore, progress: Progress): RowsSource {
  return {
    start: async () => undefined,
    async rows(request) {
      const rows = await computeRows(request.images, x, params, progress);
      await saveRows(store, request.key, rows);
      return rows;
    },
    close: async () => undefined,
  };
}
