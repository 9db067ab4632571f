/** What a coordinator puts on the queue and what a worker hands back. */
import type { ImageRef } from '@caption/backbones';
import type { ExtractorParams } from '../extraction.ts';
import type { RowsRecord } from '../memo.ts';
import type { FeaturesParams } from '../params.ts';

export interface ShardJob {
  run: string;                              // the coordinator's run id (job ids are `<run>-<shard>`)
  shard: number;
  key: string;                              // memo key of the rows (memo.ts)
  code: string;                             // the coordinator's code version: a worker on another refuses
  config: Record<string, unknown>;          // the coordinator's extraction config: a worker whose differs refuses
  params: ExtractorParams & Pick<FeaturesParams, 'batchSize' | 'concurrency'>;
  seed: number;
  reuse: boolean;                           // rows already in the store may be returned as they are
  store: string;                            // the content store the rows go to (and images come from)
  images: ImageRef[];
}

export interface ShardResult extends RowsRecord {
  worker: string;                           // host:pid
  seconds: number;
}

export interface MergeJob {
  run: string;
  shards: number;
}

/** Progress a worker reports while it extracts a shard. */
export interface ShardProgressEvent {
  done: number;
  total: number;
  worker: string;
}

export const jobId = (run: string, shard: number) => `${run}-${String(shard).padStart(5, '0')}`;
