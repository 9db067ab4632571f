/**
 * Past one machine, end to end on loopback: a real redis-server, two `caption worker` processes (one killed
 * with -9 in the middle of a shard), and `caption run` with CAPTION_QUEUE set give a features artifact
 * byte-identical to a local run's. A fresh clone with an empty Turbo cache and the same content store then
 * gets the features without computing any, and Turbo's cache entry for features holds kilobytes, not shards.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createWorkspace, fileHashes, type Workspace } from './helpers/workspace.ts';
import { startRedis, type RedisServer } from './helpers/redis.ts';

const PIPELINE = `name: distributed
seed: 42
ingest: { dataset: demo, demo: { images: 48, seed: 11 } }
features: { backbone: mobilenet_v2, batchSize: 4, shardSize: 6 }
tokenize: { vocabSize: 100, maxLength: 12 }
train: { decoder: merge-lstm, epochs: 1, batchSize: 32, embedDim: 8, units: 8 }
evaluate: { split: test, maxLength: 12, samples: 1 }
`;

let redis: RedisServer;
let a: Workspace;
let tmp: string;
const children: ChildProcess[] = [];
const saved = { CAPTION_STORE: process.env.CAPTION_STORE, CAPTION_QUEUE: process.env.CAPTION_QUEUE };

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'caption-distributed-'));
  redis = await startRedis();
  a = createWorkspace('caption-dist-a-');
  a.writeFile('pipelines/distributed.yaml', PIPELINE);
});
after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  await redis?.stop();
  a?.remove();
  rmSync(tmp, { recursive: true, force: true });
});

function env(store: string, queue?: string) {
  process.env.CAPTION_STORE = store;
  if (queue) process.env.CAPTION_QUEUE = queue;
  else delete process.env.CAPTION_QUEUE;
}

function captionRun(ws: Workspace, args: string[] = []) {
  const r = ws.caption(['run', 'pipelines/distributed.yaml', ...args], { allowFail: true });
  assert.equal(r.code, 0, `caption run exited ${r.code}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  return r.stdout + r.stderr;
}

function worker(ws: Workspace) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'packages/cli/src/main.ts', 'worker', '--threads', '1'], {
    cwd: ws.dir, env: { ...process.env, CAPTION_QUEUE: redis.url, CAPTION_QUEUE_LOCK_MS: '4000', CAPTION_ROOT: '' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  return { child, output: () => output };
}

/** sha256 of every file of the features artifact, by relative path. */
const featureFiles = (ws: Workspace) => fileHashes(path.join(ws.dir, 'artifacts', 'features'));

let local: Record<string, string>;

test('local run: the reference features', () => {
  env(path.join(tmp, 'store-local'));
  captionRun(a);
  local = featureFiles(a);
  assert.equal(Object.keys(local).filter((f) => f.endsWith('.arrow')).length, 8);
});

test('caption run with CAPTION_QUEUE, two workers, one killed -9 mid-shard: features byte-identical to the local run', async () => {
  env(path.join(tmp, 'store-shared'), redis.url);
  rmSync(path.join(a.dir, 'artifacts', 'features'), { recursive: true }); // or its rows would be reused, not queued
  const w1 = worker(a);
  const w2 = worker(a);
  const run = new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'packages/cli/src/main.ts', 'run', 'pipelines/distributed.yaml', '--force'], {
      cwd: a.dir, env: { ...process.env, CAPTION_ROOT: '' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`caption run exited ${code}\n${out.slice(-4000)}`))));
  });
  for (let waited = 0; !/took shard/.test(w1.output()); waited += 20) {
    if (waited > 180_000) throw new Error(`worker 1 never took a shard:\n${w1.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  w1.child.kill('SIGKILL');
  const out = await run;
  w2.child.kill('SIGTERM');
  assert.match(out, /shards as jobs on redis:\/\/127\.0\.0\.1/);
  assert.match(out, /worker [^:]+:\d+: \d+ shard\(s\), \d+ images/);
  assert.match(w2.output(), /finished shard/);
  assert.deepEqual(featureFiles(a), local);
});

test('a fresh clone, empty Turbo cache, the same store: features without computing; Turbo caches kilobytes for them', () => {
  env(path.join(tmp, 'store-shared'));
  const b = createWorkspace('caption-dist-b-');
  try {
    b.writeFile('pipelines/distributed.yaml', PIPELINE);
    const out = captionRun(b);
    assert.match(out, /reused 0, from the store 48, computed 0, failed 0/);
    assert.deepEqual(featureFiles(b), local);
    const summary = b.lastTurboSummary() as unknown as { tasks: { taskId: string; hash: string }[] };
    const hash = summary.tasks.find((t) => t.taskId.endsWith('#features'))!.hash;
    const cached = readdirSync(path.join(b.dir, '.turbo', 'cache')).filter((f) => f.startsWith(hash));
    assert.ok(cached.length, `no Turbo cache entry for features (${hash})`);
    const bytes = cached.reduce((n, f) => n + statSync(path.join(b.dir, '.turbo', 'cache', f)).size, 0);
    const shardBytes = Object.keys(local).filter((f) => f.endsWith('.arrow')).reduce((n, f) => n + statSync(path.join(b.dir, 'artifacts', 'features', f)).size, 0);
    assert.ok(bytes < 64 * 1024 && bytes * 20 < shardBytes, `features' Turbo cache entry is ${bytes} bytes (shards: ${shardBytes})`);
    assert.ok(existsSync(path.join(b.dir, 'artifacts', 'features', 'shards', 'shard-00000.arrow')));
  } finally {
    b.remove();
  }
});
