/**
 * The features stage's side of the queue: one BullMQ flow per run — a job per shard that needs computing,
 * then a merge job that checks every shard came back — and a wait for each shard's rows, which the worker
 * left in the content store. Progress events from every worker drive this process's bar. Ctrl-C (or any
 * failure) removes the run's jobs that no worker holds yet.
 */
import { randomUUID } from 'node:crypto';
import { FlowProducer, Job, Queue, QueueEvents } from 'bullmq';
import { PipelineError, STORE_ENV, createLogger, type ContentStore, type Progress } from '@caption/core';
import { featuresCodeVersion } from '../code-version.ts';
import { loadRows } from '../memo.ts';
import type { FeaturesParams } from '../params.ts';
import type { RowsRequest, RowsSource } from '../rows-source.ts';
import { QUEUE_NAME, checkRedis, connectionOf } from './connection.ts';
import { jobId, type MergeJob, type ShardJob, type ShardProgressEvent, type ShardResult } from './jobs.ts';
import { WorkerTally } from './tally.ts';

const log = createLogger('features');
export const ATTEMPTS = 3;

export interface QueueContext {
  params: FeaturesParams;
  seed: number;
  config: Record<string, unknown>;
  store: ContentStore;
  progress: Progress;
}

export async function queuedRows(url: string, ctx: QueueContext): Promise<RowsSource> {
  await checkRedis(url);
  const connection = connectionOf(url);
  const run = randomUUID().slice(0, 8);
  const queue = new Queue(QUEUE_NAME, { connection });
  const events = new QueueEvents(QUEUE_NAME, { connection });
  const waiting = new Map<string, { resolve(r: ShardResult): void; reject(e: Error): void; shard: number }>();
  const results = new Map<string, Promise<ShardResult>>();
  const tally = new WorkerTally();
  let mergeId: string | undefined;
  let failure: Error | undefined;

  events.on('progress', ({ jobId: id, data }) => {
    if (waiting.has(id)) ctx.progress.tick(tally.progress(id, parsed<ShardProgressEvent>(data)));
  });
  events.on('completed', ({ jobId: id, returnvalue }) => waiting.get(id)?.resolve(parsed<ShardResult>(returnvalue)));
  events.on('failed', ({ jobId: id, failedReason }) => void settleFailure(id, failedReason));

  /** A 'failed' event also marks an attempt that will be retried: only a job in the failed set fails the stage. */
  async function settleFailure(id: string, reason: string) {
    const w = waiting.get(id);
    if (!w || (await (await Job.fromId(queue, id))?.getState()) !== 'failed') return;
    failure ??= new PipelineError('queue', `features shard ${w.shard} failed ${ATTEMPTS} times on the queue: ${reason}`);
    w.reject(failure);
  }

  const onSignal = () => void removeQueued().finally(() => process.exit(130));
  async function removeQueued() {
    let removed = 0;
    for (const id of [...waiting.keys(), ...(mergeId ? [mergeId] : [])]) removed += await queue.remove(id).catch(() => 0);
    if (removed) log.warn(`removed ${removed} queued job(s) of run ${run} from ${url}`);
  }

  return {
    async start(requests: RowsRequest[]) {
      process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
      await events.waitUntilReady();
      if (!requests.length) return;
      if (process.env[STORE_ENV]) await uploadImages(ctx.store, requests);
      for (const r of requests) {
        const id = jobId(run, r.shard);
        results.set(id, new Promise((resolve, reject) => waiting.set(id, { resolve, reject, shard: r.shard })));
        results.get(id)!.catch(() => undefined); // awaited in order by rows(); a later shard's failure must not go unhandled
      }
      const children = requests.map((r) => ({
        name: 'shard', queueName: QUEUE_NAME, data: shardJob(run, r, ctx),
        opts: { jobId: jobId(run, r.shard), attempts: ATTEMPTS, backoff: { type: 'fixed', delay: 1000 }, failParentOnFailure: true, removeOnComplete: true },
      }));
      const merge: MergeJob = { run, shards: requests.length };
      const flow = new FlowProducer({ connection });
      const node = await flow.add({ name: 'merge', queueName: QUEUE_NAME, data: merge, opts: { jobId: `${run}-merge`, removeOnComplete: true }, children });
      await flow.close();
      mergeId = node.job.id;
      log.info(`run ${run}: ${requests.length} shard job(s) on ${url}; waiting for \`caption worker\`s`);
    },
    async rows(request) {
      const result = await results.get(jobId(run, request.shard))!;
      const rows = await loadRows(ctx.store, result);
      if (!rows) throw new PipelineError('queue', `shard ${request.shard}: its rows (${result.shard.sha256}) are not in the store ${ctx.store.location}`);
      tally.finished(result);
      waiting.delete(jobId(run, request.shard));
      return rows;
    },
    async close() {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      if (waiting.size || failure) await removeQueued();
      for (const line of tally.summary()) log.info(line);
      await events.close();
      await queue.close();
    },
  };
}

function shardJob(run: string, r: RowsRequest, ctx: QueueContext): ShardJob {
  const { backbone, weights, cutLayer, engine, dtype, batchSize, concurrency } = ctx.params;
  return {
    run, shard: r.shard, key: r.key, code: featuresCodeVersion(), config: ctx.config, seed: ctx.seed, reuse: ctx.params.reuse, store: ctx.store.location, images: r.images,
    params: { backbone, weights, cutLayer, engine, dtype, batchSize, concurrency },
  };
}

/**
 * A shared store (CAPTION_STORE) also carries the images, for workers that cannot read the data set's path.
 * An image that is gone or changed since ingest is left out: the worker's decode names it, as a local run would.
 */
async function uploadImages(store: ContentStore, requests: RowsRequest[]) {
  for (const img of requests.flatMap((r) => r.images)) {
    if (img.bytes === undefined) continue;
    await store.putFile(img.file, { sha256: img.sha256, bytes: img.bytes }).catch((err: Error) => log.warn(`${img.image_id} not copied to the store: ${err.message}`));
  }
}

/** Event payloads arrive as JSON text or already parsed, depending on the event. */
const parsed = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;
