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
  return new QueuedRows(url, ctx);
}

type Waiter = { resolve(r: ShardResult): void; reject(e: Error): void; shard: number };

class QueuedRows implements RowsSource {
  private readonly connection;
  private readonly run = randomUUID().slice(0, 8);
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly waiting = new Map<string, Waiter>();
  private readonly results = new Map<string, Promise<ShardResult>>();
  private readonly tally = new WorkerTally();
  private mergeId?: string;
  private failure?: Error;
  /** Failures still being looked up: close() waits for them, so none touches the queue after it is closed. */
  private readonly settling = new Set<Promise<void>>();
  private readonly onSignal = () => void this.removeQueued().finally(() => process.exit(130));

  constructor(private readonly url: string, private readonly ctx: QueueContext) {
    this.connection = connectionOf(url);
    this.queue = new Queue(QUEUE_NAME, { connection: this.connection });
    this.events = new QueueEvents(QUEUE_NAME, { connection: this.connection });
    this.events.on('progress', ({ jobId: id, data }) => {
      if (this.waiting.has(id)) ctx.progress.tick(this.tally.progress(id, parsed<ShardProgressEvent>(data)), this.tally.rates());
    });
    this.events.on('completed', ({ jobId: id, returnvalue }) => this.waiting.get(id)?.resolve(parsed<ShardResult>(returnvalue)));
    this.events.on('failed', ({ jobId: id, failedReason }) => {
      const settling = this.settleFailure(id, failedReason).finally(() => this.settling.delete(settling));
      this.settling.add(settling);
    });
  }

  async start(requests: RowsRequest[]) {
    process.once('SIGINT', this.onSignal).once('SIGTERM', this.onSignal);
    await this.events.waitUntilReady();
    if (!requests.length) return;
    if (process.env[STORE_ENV]) await uploadImages(this.ctx.store, requests);
    for (const r of requests) {
      const id = jobId(this.run, r.shard);
      this.results.set(id, new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject, shard: r.shard })));
      this.results.get(id)!.catch(() => undefined); // awaited in order by rows(); a later shard's failure must not go unhandled
    }
    const children = requests.map((r) => ({
      name: 'shard', queueName: QUEUE_NAME, data: shardJob(this.run, r, this.ctx),
      opts: { jobId: jobId(this.run, r.shard), attempts: ATTEMPTS, backoff: { type: 'fixed', delay: 1000 }, failParentOnFailure: true, removeOnComplete: true },
    }));
    const merge: MergeJob = { run: this.run, shards: requests.length };
    const flow = new FlowProducer({ connection: this.connection });
    const node = await flow.add({ name: 'merge', queueName: QUEUE_NAME, data: merge, opts: { jobId: `${this.run}-merge`, removeOnComplete: true }, children });
    await flow.close();
    this.mergeId = node.job.id;
    log.info(`run ${this.run}: ${requests.length} shard job(s) on ${this.url}; waiting for \`caption worker\`s`);
  }

  async rows(request: RowsRequest) {
    const id = jobId(this.run, request.shard);
    const result = await this.results.get(id)!;
    const rows = await loadRows(this.ctx.store, result);
    if (!rows) throw new PipelineError('queue', `shard ${request.shard}: its rows (${result.shard.sha256}) are not in the store ${this.ctx.store.location}`);
    this.tally.finished(result);
    this.waiting.delete(id);
    return rows;
  }

  async close() {
    process.off('SIGINT', this.onSignal).off('SIGTERM', this.onSignal);
    if (this.waiting.size || this.failure) await this.removeQueued();
    for (const line of this.tally.summary()) log.info(line);
    for (const event of ['progress', 'completed', 'failed'] as const) this.events.removeAllListeners(event);
    await Promise.all(this.settling);
    await this.events.close();
    await this.queue.close();
  }

  /** A 'failed' event also marks an attempt that will be retried: only a job in the failed set fails the stage. */
  private async settleFailure(id: string, reason: string) {
    const w = this.waiting.get(id);
    if (!w) return;
    let state: string | undefined;
    try {
      state = await (await Job.fromId(this.queue, id))?.getState();
    } catch (err) { // Redis went away: the stage cannot tell a retry from the end, so it stops
      this.failure ??= new PipelineError('queue', `features shard ${w.shard} failed (${reason}) and its state could not be read from ${this.url}: ${(err as Error).message}`);
      return w.reject(this.failure);
    }
    if (state !== 'failed') return;
    this.failure ??= new PipelineError('queue', `features shard ${w.shard} failed ${ATTEMPTS} times on the queue: ${reason}`);
    w.reject(this.failure);
  }

  /** Jobs no worker holds yet are removed; running ones finish and leave their rows in the store. */
  private async removeQueued() {
    let removed = 0;
    for (const id of [...this.waiting.keys(), ...(this.mergeId ? [this.mergeId] : [])]) removed += await this.queue.remove(id).catch(() => 0);
    if (removed) log.warn(`removed ${removed} queued job(s) of run ${this.run} from ${this.url}`);
  }
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
