/**
 * `caption worker`: takes shard jobs from the queue on any machine with the same checkout installed. A job is
 * refused (and retried elsewhere) when this checkout's code version or the backbone's config (weights hash,
 * preprocessing, engine...) differ from the coordinator's. Rows go to the job's content store; a job whose
 * rows are already there (an earlier attempt finished uploading before it died) returns them at once.
 */
import os from 'node:os';
import { Worker, type Job } from 'bullmq';
import { PipelineError, canonicalJson, createLogger, localCopies, openStore } from '@caption/core';
import { featuresCodeVersion } from '../code-version.ts';
import { computeRows, openExtractor, type Extractor } from '../extraction.ts';
import { findRows, saveRows } from '../memo.ts';
import { QUEUE_NAME, checkRedis, connectionOf } from './connection.ts';
import type { MergeJob, ShardJob, ShardProgressEvent, ShardResult } from './jobs.ts';

const log = createLogger('worker');
export const WORKER_ID = `${os.hostname()}:${process.pid}`;

export interface WorkerOptions {
  url: string;
  concurrency?: number;      // jobs at once (each runs its own batches; 1 suits one ONNX session per core set)
  threads?: number;          // ONNX Runtime intra-op threads
  lockMs?: number;           // how long a silent worker keeps its job before another may take it
}

/** A started worker. `stop()` lets a job in hand finish; with none in hand (or Redis gone) it stops at once. */
export interface ShardWorker { stop(now?: boolean): Promise<void> }

export async function startWorker(opts: WorkerOptions): Promise<ShardWorker> {
  await checkRedis(opts.url);
  const extractors = new Map<string, Promise<Extractor>>();
  const lockDuration = opts.lockMs ?? 30_000;
  let inHand = 0;
  const worker = new Worker(QUEUE_NAME, async (job: Job) => {
    inHand++;
    try {
      return await (job.name === 'merge' ? merge(job) : shard(job, extractors, opts.threads));
    } finally {
      inHand--;
    }
  }, { connection: connectionOf(opts.url), concurrency: opts.concurrency ?? 1, lockDuration, stalledInterval: lockDuration, maxStalledCount: 2 });
  worker.on('failed', (job, err) => log.warn(`${job?.name} ${job?.id} failed (attempt ${job?.attemptsMade}): ${err.message}`));
  let lastError: string | undefined; // ioredis retries every few hundred ms: a line when the error changes, not one per retry
  worker.on('error', (err) => {
    if (err.message !== lastError) log.warn(`queue ${opts.url}: ${err.message} (retrying)`);
    lastError = err.message;
  });
  await worker.waitUntilReady();
  log.info(`${WORKER_ID} waiting for jobs on ${opts.url} (code ${featuresCodeVersion().slice(0, 12)})`);
  // a graceful close needs Redis to hand the job back; with nothing in hand there is nothing to wait for
  return { stop: (now = false) => worker.close(now || inHand === 0) };
}

async function shard(job: Job, extractors: Map<string, Promise<Extractor>>, threads?: number): Promise<ShardResult> {
  const data = job.data as ShardJob;
  const started = Date.now();
  log.info(`took shard ${data.shard} of run ${data.run} (${data.images.length} images, attempt ${job.attemptsMade + 1})`);
  if (data.code !== featuresCodeVersion()) {
    throw new PipelineError('queue', `refused by ${WORKER_ID}: it runs code version ${featuresCodeVersion().slice(0, 12)}, the job was planned by ` +
      `${data.code.slice(0, 12)} (check out the coordinator's commit and \`pnpm install\` there)`);
  }
  const store = openStore(data.store);
  const done = data.reuse ? await findRows(store, data.key) : undefined;
  if (done && await store.has(done.shard.sha256)) return finish(data, { ...done, worker: WORKER_ID, seconds: (Date.now() - started) / 1000 });

  const key = canonicalJson({ params: data.params, seed: data.seed });
  if (!extractors.has(key)) extractors.set(key, openExtractor(data.params, data.seed, threads));
  const x = await extractors.get(key)!;
  if (canonicalJson(x.config) !== canonicalJson(data.config)) {
    throw new PipelineError('queue', `refused by ${WORKER_ID}: its backbone config ${canonicalJson(x.config)} differs from the job's ${canonicalJson(data.config)}`);
  }
  const images = await localCopies(store, data.images, WORKER_ID);
  try {
    let n = 0;
    const tick = (k = 1) => void job.updateProgress({ done: (n += k), total: data.images.length, worker: WORKER_ID } satisfies ShardProgressEvent);
    const rows = await computeRows(images.files, x, data.params, { tick });
    const record = await saveRows(store, data.key, rows);
    return finish(data, { ...record, worker: WORKER_ID, seconds: (Date.now() - started) / 1000 });
  } finally {
    await images.cleanup();
  }
}

function finish(data: ShardJob, result: ShardResult): ShardResult {
  log.info(`finished shard ${data.shard} of run ${data.run}: ${result.images} images in ${result.seconds.toFixed(1)} s`);
  return result;
}

/** The flow's last job: every shard job handed back a result. */
async function merge(job: Job): Promise<{ shards: number }> {
  const data = job.data as MergeJob;
  const values = Object.values(await job.getChildrenValues());
  if (values.length !== data.shards) throw new PipelineError('queue', `run ${data.run}: ${values.length} of ${data.shards} shard results`);
  return { shards: values.length };
}
