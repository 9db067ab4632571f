/**
 * Features as jobs on BullMQ with a real redis-server (loopback, free port): two `caption worker` processes,
 * one killed -9 in the middle of a shard, give byte-identical shards and manifest to a local run; a job that
 * fails three times fails the stage naming the shard; a worker of another code version refuses; Ctrl-C on the
 * coordinator removes its queued jobs; an unreachable Redis is a clear error with nothing written.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import S3rver from 's3rver';
import { S3Store, catalog, openStage } from '@caption/core';
import { runIngest, writeDemoDataset } from '../../ingest/src/index.ts';
import { freePort, startRedis, type RedisServer } from '../../../test/helpers/redis.ts';
import { createWorkspace } from '../../../test/helpers/workspace.ts';
import { runFeatures } from '../src/stage.ts';
import { QUEUE_NAME, connectionOf } from '../src/queue/connection.ts';
import type { FeaturesParams } from '../src/params.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(here, '../../..');
const params: FeaturesParams = { backbone: 'mobilenet_v2', weights: 'pretrained', engine: 'onnx', batchSize: 2, shardSize: 4, dtype: 'float16', concurrency: 2, reuse: true };
let tmp: string;
let redis: RedisServer;
const workers: ChildProcess[] = [];

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'features-queue-'));
  redis = await startRedis();
  await writeDemoDataset(path.join(tmp, 'data'), { seed: 7, images: 24 });
  const ingest = { demo: { images: 24, seed: 7 }, format: 'auto', lemmas: false, imageDir: '', splitMap: {}, splitFractions: { train: 0.8, dev: 0.1, test: 0.1 }, strict: false, concurrency: 4 } as const;
  await runIngest({ pipeline: 't', seed: 1, params: { ...ingest, dataset: path.join(tmp, 'data') } }, path.join(tmp, 'ingest'));
});
after(async () => {
  for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
  delete process.env.CAPTION_QUEUE;
  delete process.env.CAPTION_STORE;
  await redis?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** Features into `out` with a store of its own (so nothing comes from an earlier run's rows). */
function run(out: string, opts: { queue?: string; ingest?: string; store?: string } = {}) {
  process.env.CAPTION_STORE = opts.store ?? path.join(tmp, `store-${out}`);
  if (opts.queue) process.env.CAPTION_QUEUE = opts.queue;
  else delete process.env.CAPTION_QUEUE;
  return runFeatures({ pipeline: 't', seed: 1, params }, path.join(tmp, opts.ingest ?? 'ingest'), path.join(tmp, out));
}

interface Worker { child: ChildProcess; output: () => string; waitFor(re: RegExp): Promise<void> }

function startWorker(env: Record<string, string> = {}, checkout = REPO, url = redis.url): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', 'packages/cli/src/main.ts', 'worker', '--queue', url, '--threads', '1'], {
    cwd: checkout, env: { ...process.env, CAPTION_QUEUE_LOCK_MS: '4000', CAPTION_STORE: '', CAPTION_QUEUE: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  workers.push(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  return {
    child,
    output: () => output,
    async waitFor(re) {
      for (let waited = 0; !re.test(output); waited += 20) {
        if (child.exitCode !== null || waited > 120_000) throw new Error(`worker never printed ${re}:\n${output}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

async function stopWorker(w: Worker): Promise<void> {
  if (w.child.exitCode !== null) return;
  const exited = new Promise((r) => w.child.once('exit', r));
  w.child.kill('SIGTERM');
  await exited;
}

const files = (dir: string) => Object.fromEntries(readdirSync(path.join(dir, 'shards')).sort()
  .map((f) => [f, readFileSync(path.join(dir, 'shards', f)).toString('base64')]));

async function jobCounts() {
  const queue = new Queue(QUEUE_NAME, { connection: connectionOf(redis.url) });
  try {
    return await queue.getJobCounts('waiting', 'waiting-children', 'active', 'delayed', 'prioritized');
  } finally {
    await queue.close();
  }
}

test('queue: two workers, one killed -9 mid-shard -> the same shards and manifest as a local run', async () => {
  const local = await run('local');
  const a = startWorker();
  const b = startWorker();
  const queued = run('queued', { queue: redis.url });
  await a.waitFor(/took shard/);
  a.child.kill('SIGKILL'); // in the middle of its first shard: its job stalls and is taken again
  const m = await queued;
  await stopWorker(b);
  assert.equal(readFileSync(path.join(tmp, 'queued', 'manifest.json'), 'utf8'), readFileSync(path.join(tmp, 'local', 'manifest.json'), 'utf8'));
  assert.deepEqual(files(path.join(tmp, 'queued')), files(path.join(tmp, 'local')));
  assert.equal(m.rows.images, local.rows.images);
  assert.match(b.output(), /finished shard \d+/);
  assert.doesNotMatch(a.output(), /finished shard/);
  assert.deepEqual(await jobCounts(), { waiting: 0, 'waiting-children': 0, active: 0, delayed: 0, prioritized: 0 });
});

test('queue: with the store in S3-compatible storage (s3rver), the same bytes; the images went through the store', async () => {
  const s3env = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' }; // s3rver's fixed test credentials
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: path.join(tmp, 's3rver'), configureBuckets: [{ name: 'caption', configs: [] }] });
  const { port } = await server.run() as unknown as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  Object.assign(process.env, s3env, { CAPTION_S3_ENDPOINT: endpoint });
  const w = startWorker({ ...s3env, CAPTION_S3_ENDPOINT: endpoint });
  try {
    await run('s3', { queue: redis.url, store: 's3://caption/features' });
    assert.deepEqual(files(path.join(tmp, 's3')), files(path.join(tmp, 'local')));
    assert.equal(readFileSync(path.join(tmp, 's3', 'manifest.json'), 'utf8'), readFileSync(path.join(tmp, 'local', 'manifest.json'), 'utf8'));
    const store = new S3Store('s3://caption/features', endpoint);
    const images = await catalog.ingest.images.load(await openStage('ingest', path.join(tmp, 'ingest')));
    for (const img of images) assert.ok(await store.has(img.sha256), `${img.image_id} is in the store`);
  } finally {
    await stopWorker(w);
    delete process.env.CAPTION_S3_ENDPOINT;
    await server.close();
  }
});

test('queue: a shard job that fails three times fails the stage, naming the shard and the error', async () => {
  await writeDemoDataset(path.join(tmp, 'data-bad'), { seed: 8, images: 8 });
  const ingest = { demo: { images: 8, seed: 8 }, format: 'auto', lemmas: false, imageDir: '', splitMap: {}, splitFractions: { train: 0.8, dev: 0.1, test: 0.1 }, strict: false, concurrency: 4 } as const;
  await runIngest({ pipeline: 't', seed: 1, params: { ...ingest, dataset: path.join(tmp, 'data-bad') } }, path.join(tmp, 'ingest-bad'));
  const victim = readdirSync(path.join(tmp, 'data-bad', 'Flicker8k_Dataset')).sort()[5]; // in shard 1
  appendFileSync(path.join(tmp, 'data-bad', 'Flicker8k_Dataset', victim), 'changed after ingest');
  const w = startWorker();
  try {
    await assert.rejects(run('bad', { queue: redis.url, ingest: 'ingest-bad' }),
      new RegExp(`features shard 1 failed 3 times on the queue: .*image changed since ingest: .*${victim.replace('.', '\\.')}`));
  } finally {
    await stopWorker(w);
  }
  assert.ok(!existsSync(path.join(tmp, 'bad', 'manifest.json')));
  assert.equal((w.output().match(/took shard 1 /g) ?? []).length, 3, w.output());
});

test('queue: shards failing for good while others still fail -> one clear error, and the coordinator closes without a crash', async () => {
  // another process fails every attempt at once, so failures keep arriving while the first shard to fail for
  // good stops the stage and the coordinator closes its queue
  const script = path.join(tmp, 'failing-worker.mts');
  writeFileSync(script, `
    import { Worker } from ${JSON.stringify(import.meta.resolve('bullmq'))};
    const w = new Worker(${JSON.stringify(QUEUE_NAME)}, async (job) => {
      await new Promise((r) => setTimeout(r, Math.random() * 40));
      if (job.name === 'shard') throw new Error('no extractor here');
    }, { connection: ${JSON.stringify(connectionOf(redis.url))}, concurrency: 8 });
    await w.waitUntilReady();
    console.log('ready');
    process.once('SIGTERM', () => void w.close().then(() => process.exit(0)));
  `);
  const failing = spawn(process.execPath, ['--import', 'tsx', script], { cwd: here, stdio: ['ignore', 'pipe', 'inherit'] });
  workers.push(failing);
  await new Promise((resolve, reject) => failing.once('exit', reject).stdout!.once('data', resolve));
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => void rejections.push(reason);
  process.on('unhandledRejection', onRejection);
  try {
    process.env.CAPTION_STORE = path.join(tmp, 'store-burst');
    process.env.CAPTION_QUEUE = redis.url;
    await assert.rejects(runFeatures({ pipeline: 't', seed: 1, params: { ...params, shardSize: 1 } }, path.join(tmp, 'ingest'), path.join(tmp, 'burst')),
      /features shard \d+ failed 3 times on the queue: no extractor here/);
    await new Promise((r) => setTimeout(r, 2000)); // the remaining shards' attempts fail meanwhile
  } finally {
    process.off('unhandledRejection', onRejection);
    failing.kill('SIGTERM');
  }
  assert.deepEqual(rejections.map(String), []);
  assert.ok(!existsSync(path.join(tmp, 'burst', 'manifest.json')));
});

test('queue: a worker running other code refuses the job, with both versions', async () => {
  // another checkout of this repository with one line changed
  const other = createWorkspace('caption-other-checkout-');
  appendFileSync(path.join(other.dir, 'packages', 'features', 'src', 'extraction.ts'), '\n// a local edit\n');
  const w = startWorker({}, other.dir);
  try {
    await assert.rejects(run('refused', { queue: redis.url }), /features shard \d+ failed 3 times on the queue: refused by .*: it runs code version [0-9a-f]{12}, the job was planned by [0-9a-f]{12}/);
  } finally {
    await stopWorker(w);
    other.remove();
  }
});

test('queue: Ctrl-C on the coordinator removes its queued jobs', async () => {
  const script = path.join(tmp, 'coordinator.mts');
  writeFileSync(script, `
    import { runFeatures } from ${JSON.stringify(path.join(here, '../src/stage.ts'))};
    await runFeatures({ pipeline: 't', seed: 1, params: ${JSON.stringify(params)} }, ${JSON.stringify(path.join(tmp, 'ingest'))}, ${JSON.stringify(path.join(tmp, 'interrupted'))});
  `);
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: REPO, env: { ...process.env, CAPTION_QUEUE: redis.url, CAPTION_STORE: path.join(tmp, 'store-interrupted') }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (d) => (output += d));
  for (let waited = 0; !/shard job\(s\) on/.test(output); waited += 20) {
    if (child.exitCode !== null || waited > 120_000) throw new Error(`coordinator did not enqueue:\n${output}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok((await jobCounts()).waiting > 0, 'jobs are queued (no worker runs)');
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGINT');
  assert.equal(await exited, 130, output);
  assert.match(output, /removed 7 queued job\(s\)/); // 6 shards + the merge
  assert.deepEqual(await jobCounts(), { waiting: 0, 'waiting-children': 0, active: 0, delayed: 0, prioritized: 0 });
  assert.ok(!existsSync(path.join(tmp, 'interrupted', 'manifest.json')));
});

test('queue: Redis going away -> the worker says so once (not once per retry), and SIGTERM still stops it', async () => {
  const gone = await startRedis();
  const w = startWorker({}, REPO, gone.url);
  await w.waitFor(/waiting for jobs/);
  await gone.stop();
  await w.waitFor(/ECONNREFUSED .*\(retrying\)/);
  await new Promise((r) => setTimeout(r, 2000)); // ioredis retries several times meanwhile
  assert.equal((w.output().match(/ECONNREFUSED/g) ?? []).length, 1, w.output());
  const exited = new Promise((r) => w.child.once('exit', r));
  w.child.kill('SIGTERM');
  const outcome = await Promise.race([exited.then(() => 'exited'), new Promise((r) => setTimeout(r, 20_000, 'still running 20 s after SIGTERM'))]);
  assert.equal(outcome, 'exited', w.output());
  assert.equal(w.child.exitCode, 0, w.output());
});

test('queue: Redis unreachable -> a clear error within seconds, nothing written', async () => {
  const url = `redis://127.0.0.1:${await freePort()}`;
  const started = Date.now();
  await assert.rejects(run('unreachable', { queue: url }), new RegExp(`cannot reach Redis at ${url} \\(CAPTION_QUEUE\\): .*ECONNREFUSED.*unset CAPTION_QUEUE`));
  assert.ok(Date.now() - started < 30_000);
  assert.ok(!existsSync(path.join(tmp, 'unreachable')) && !existsSync(path.join(tmp, 'unreachable.partial')));
});
