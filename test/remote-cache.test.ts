/**
 * Shared cache: two fresh clones and the self-hosted Turbo remote cache (`pnpm cache-server`) on loopback.
 * Clone A runs a pipeline and uploads every stage; clone B, with an empty local cache, gets every stage from
 * the server without executing any, with byte-identical artifacts and the same printed report. An upload the
 * server refuses only makes Turbo warn (exit 0), so the check is on the server's storage, not the exit code.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO, createWorkspace, fileHashes, type Workspace } from './helpers/workspace.ts';
import { freePort } from './helpers/redis.ts';

const TEAM = 'caption-test';
const TOKEN = 'remote-cache-test-token';
const STAGES = ['ingest', 'features', 'tokenize', 'train', 'evaluate'];

const TINY = `name: shared-cache
seed: 42
ingest: { dataset: demo, demo: { images: 24, seed: 5 } }
features: { backbone: mobilenet_v2, batchSize: 12, shardSize: 12 }
tokenize: { vocabSize: 200, maxLength: 16 }
train: { decoder: merge-lstm, epochs: 1, batchSize: 32, embedDim: 16, units: 16 }
evaluate: { split: test, maxLength: 16, samples: 1 }
`;

interface CacheServer { api: string; storage: string; stop(): Promise<void> }

async function startCacheServer(env: Record<string, string> = {}): Promise<CacheServer> {
  const port = await freePort();
  const storage = mkdtempSync(path.join(os.tmpdir(), 'caption-remote-cache-'));
  const child: ChildProcess = spawn(process.execPath,
    [path.join(REPO, 'scripts', 'cache-server.mjs'), '--port', String(port), '--storage', storage, '--token', TOKEN, '--team', TEAM],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const api = `http://127.0.0.1:${port}`;
  for (let waited = 0; ; waited += 200) {
    const status = await fetch(`${api}/v8/artifacts/status`, { headers: { authorization: `Bearer ${TOKEN}` } }).catch(() => undefined);
    if (status?.ok) break;
    if (child.exitCode !== null || waited > 20_000) throw new Error(`cache server did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    api,
    storage,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(storage, { recursive: true, force: true });
    },
  };
}

/** Turbo's client settings, read from the environment the workspace's `caption`/`turbo` children inherit. */
function useRemoteCache(server: CacheServer): void {
  Object.assign(process.env, { TURBO_API: server.api, TURBO_TOKEN: TOKEN, TURBO_TEAM: TEAM });
}

/** sha256 of every file under artifacts/, keyed by relative path. */
const artifactHashes = (ws: Workspace) => fileHashes(path.join(ws.dir, 'artifacts'));

interface FullSummary {
  tasks: { taskId: string; hash: string; cache: { status: string; source?: string; local: boolean; remote: boolean } }[];
  execution: { attempted: number; cached: number; startTime: number; endTime: number };
}

const stage = (taskId: string) => taskId.split('#')[1];

function sh(cwd: string, cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
}

/** `caption run`, failing with the end of Turbo's output (the stages' own logs go to stdout through Turbo). */
function captionRun(ws: Workspace, file: string): { stdout: string; stderr: string } {
  const r = ws.caption(['run', file], { allowFail: true });
  assert.equal(r.code, 0, `caption run exited ${r.code}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`);
  return r;
}

describe('shared Turbo remote cache (self-hosted, loopback)', () => {
  let server: CacheServer;
  let a: Workspace;
  let b: Workspace;
  const saved = { TURBO_API: process.env.TURBO_API, TURBO_TOKEN: process.env.TURBO_TOKEN, TURBO_TEAM: process.env.TURBO_TEAM, CAPTION_STORE: process.env.CAPTION_STORE };
  let store: string;
  before(async () => {
    server = await startCacheServer();
    // the content store both clones share: Turbo carries the features manifest, the store the shards
    store = mkdtempSync(path.join(os.tmpdir(), 'caption-shared-store-'));
    process.env.CAPTION_STORE = store;
    a = createWorkspace('caption-remote-a-');
    b = createWorkspace('caption-remote-b-');
    // Others may edit this checkout while the copies are made: B becomes a clone of exactly A's commit.
    sh(b.dir, 'git', ['fetch', '-q', a.dir, 'HEAD']);
    sh(b.dir, 'git', ['reset', '-q', '--hard', 'FETCH_HEAD']);
    sh(b.dir, 'git', ['clean', '-fdq']);
    sh(b.dir, 'pnpm', ['install', '--offline', '--frozen-lockfile', '--reporter=silent']);
  });
  after(async () => {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    await server?.stop();
    if (store) rmSync(store, { recursive: true, force: true });
    a?.remove();
    b?.remove();
  });

  let runA: { stdout: string; stderr: string };
  let summaryA: FullSummary;

  test('clone A: every stage executes and is uploaded to the server', () => {
    useRemoteCache(server);
    a.writeFile('pipelines/shared.yaml', TINY);
    runA = captionRun(a, 'pipelines/shared.yaml');
    summaryA = a.lastTurboSummary() as unknown as FullSummary;
    assert.deepEqual(summaryA.tasks.map((t) => [stage(t.taskId), t.cache.status]).sort(), STAGES.map((s) => [s, 'MISS']).sort());
    assert.doesNotMatch(runA.stdout + runA.stderr, /failed to contact remote cache|Remote Caching is unavailable/);
    // The server holds one non-empty artifact per task hash (Turbo does not fail a run whose upload failed).
    const stored = readdirSync(path.join(server.storage, TEAM));
    for (const t of summaryA.tasks) {
      assert.ok(stored.includes(t.hash), `${stage(t.taskId)} (${t.hash}) not on the server; stored: ${stored.join(', ')}`);
      assert.ok(statSync(path.join(server.storage, TEAM, t.hash)).size > 0, `${stage(t.taskId)} artifact is empty`);
    }
  });

  test('clone B (fresh, empty local cache): every stage is a remote hit, none executes', () => {
    assert.ok(!existsSync(path.join(b.dir, '.turbo', 'cache')) || readdirSync(path.join(b.dir, '.turbo', 'cache')).length === 0);
    useRemoteCache(server);
    b.writeFile('pipelines/shared.yaml', TINY);
    const runB = captionRun(b, 'pipelines/shared.yaml');
    const summaryB = b.lastTurboSummary() as unknown as FullSummary;
    const hashes = (s: FullSummary) => Object.fromEntries(s.tasks.map((t) => [stage(t.taskId), t.hash]));
    assert.deepEqual(hashes(summaryB), hashes(summaryA), 'the two clones computed different task hashes');
    assert.deepEqual(
      Object.fromEntries(summaryB.tasks.map((t) => [stage(t.taskId), `${t.cache.status}/${t.cache.source}`])),
      Object.fromEntries(STAGES.map((s) => [s, 'HIT/REMOTE'])),
    );
    assert.equal(summaryB.execution.cached, summaryB.execution.attempted);
    const secs = (s: FullSummary) => ((s.execution.endTime - s.execution.startTime) / 1000).toFixed(1);
    console.log(`turbo run evaluate: clone A executed all stages in ${secs(summaryA)} s, clone B fetched them in ${secs(summaryB)} s`);
    assert.doesNotMatch(runB.stdout + runB.stderr, /cache miss, executing/);

    const hashesA = artifactHashes(a);
    const hashesB = artifactHashes(b);
    assert.ok(Object.keys(hashesA).some((f) => f.startsWith('features/shards/') && f.endsWith('.arrow')));
    assert.deepEqual(hashesB, hashesA, 'artifacts differ between the clone that ran and the clone that fetched');
    // the server holds features' manifest and index, not its shards, and train's checkpoint without its
    // weights: B's copies (equal above) came from the store
    for (const [name, large, ratio] of [['features', /^features\/shards\/.*\.arrow$/, 20], ['train', /^train\/checkpoint\/weights\.bin$/, 2]] as const) {
      const task = summaryB.tasks.find((t) => stage(t.taskId) === name)!;
      const remote = statSync(path.join(server.storage, TEAM, task.hash)).size;
      const bytes = Object.keys(hashesA).filter((f) => large.test(f)).reduce((n, f) => n + statSync(path.join(a.dir, 'artifacts', f)).size, 0);
      console.log(`${name} on the remote cache: ${remote} bytes; its files kept in the store: ${bytes} bytes`);
      assert.ok(remote * ratio < bytes, `${name} on the remote cache: ${remote} bytes, its files kept in the store ${bytes} bytes`);
    }
    // caption run ends by printing the report (the artifact's, beside the runs history's previous run), which it
    // also writes to .caption/reports/<run>.md: the same text in both clones, each on its first run
    const report = b.readFile('.caption/reports/0001-shared-cache.md');
    assert.match(report, /shared-cache/);
    assert.equal(a.readFile('.caption/reports/0001-shared-cache.md'), report);
    assert.ok(runA.stdout.endsWith(report), `A's caption run did not end with the report:\n${runA.stdout.slice(-500)}`);
    assert.ok(runB.stdout.endsWith(report), `B's caption run did not end with the report:\n${runB.stdout.slice(-500)}`);
  });

  test('an upload the server refuses (over BODY_LIMIT) is only a Turbo warning: visible in output and storage', async () => {
    const small = await startCacheServer({ BODY_LIMIT: '1024' }); // smaller than any stage's artifact
    try {
      useRemoteCache(small);
      const r = a.turbo(['run', '@caption/tokenize#tokenize', '--force', '--summarize']);
      assert.equal(r.code, 0, r.stderr); // the task itself succeeded: Turbo does not fail the run
      assert.match(r.stdout + r.stderr, /failed to contact remote cache.*413/);
      const teamDir = path.join(small.storage, TEAM);
      assert.deepEqual(existsSync(teamDir) ? readdirSync(teamDir) : [], []);
    } finally {
      useRemoteCache(server);
      await small.stop();
    }
  });
});
