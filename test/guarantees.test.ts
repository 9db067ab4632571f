/**
 * The guarantees users rely on, tried the way a user breaks them, in one throw-away workspace:
 * - the evaluate artifact depends only on its declared inputs (`--force` twice: same bytes); the comparison
 *   with the previous run lives in `.caption/reports/`, rendered from the runs history;
 * - corrupted or truncated artifact files stop the stage that reads them (and `caption predict`) naming the file;
 *   `caption status --verify` names them; `caption run` restores them from Turbo's cache;
 * - one run per workspace: a second waits (or, with --no-wait, fails naming the holder), a stage command started
 *   straight from `turbo run` waits too, `caption status` leaves the params files alone, a dead holder's lock is
 *   taken over, and two `caption run` started together both succeed with their own run records.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { acquireLock, lockFile } from '../packages/core/src/index.ts';
import { TINY } from './helpers/pipelines.ts';
import { createWorkspace, type Workspace } from './helpers/workspace.ts';

const STAGES = ['ingest', 'features', 'tokenize', 'train', 'evaluate'];
const SHARD = 'artifacts/features/shards/shard-00000.arrow';
const WEIGHTS = 'artifacts/train/checkpoint/weights.bin';
const CORRUPT = (file: string) => new RegExp(`corrupt artifact: ${file.replace(/[./]/g, '\\$&')}: (sha256 [0-9a-f]{64} != [0-9a-f]{64}|\\d+ bytes != \\d+) \\(manifest\\); \`caption run\` restores it from the Turbo cache`);

describe('guarantees: purity, verification, locking', () => {
  let ws: Workspace;
  const file = (rel: string) => path.join(ws.dir, rel);
  /** A stage's own command, run as Turbo runs it (here directly, with no Turbo cache in front). */
  const stage = (name: string) => spawnSync(process.execPath, ['--import', 'tsx', `packages/${name}/src/command.ts`], { cwd: ws.dir, encoding: 'utf8', env: { ...process.env, CAPTION_ROOT: '' } });
  const runs = () => JSON.parse(ws.caption(['runs', '--json']).stdout) as { id: string; ok: boolean; summary: string; stages: Record<string, unknown> }[];

  before(() => {
    ws = createWorkspace('caption-guarantees-');
    ws.writeFile('pipelines/tiny.yaml', TINY);
    ws.caption(['run', 'pipelines/tiny.yaml', '--quiet']);
  });
  after(() => ws?.remove());

  test('evaluate is a pure function of its inputs: run --force twice -> byte-identical artifact; the previous run is compared in .caption/reports/', () => {
    const before = Object.fromEntries(['manifest.json', 'report.md', 'report.html'].map((f) => [f, ws.readFile(`artifacts/evaluate/${f}`)]));
    const r = ws.caption(['run', 'pipelines/tiny.yaml', '--force']);
    for (const [f, text] of Object.entries(before)) assert.equal(ws.readFile(`artifacts/evaluate/${f}`), text, `artifacts/evaluate/${f} changed`);
    assert.doesNotMatch(before['report.md'], /previous:/);
    const [first, second] = runs().slice(-2).map((x) => x.id);
    assert.match(r.stdout, new RegExp(`\\| previous: run ${first} \\(pipeline \`tiny\`, attention-gru, greedy decoding\\) \\|`), 'the printed report compares');
    assert.match(r.stdout, /\| model − previous \| 0\.0000 \|/, 'same inputs: no change against the previous run');
    assert.equal(ws.readFile(`.caption/reports/${second}.md`), r.stdout.slice(r.stdout.indexOf('# Evaluation report')));
    assert.match(ws.readFile(`.caption/reports/${second}.html`), new RegExp(`<tr data-row="previous"><td>previous: run ${first}`));
  });

  test('a same-size corruption of a feature shard: the reading stage stops naming it, status --verify names it, caption run restores it', () => {
    const good = readFileSync(file(SHARD));
    const bad = Buffer.from(good);
    bad[good.length - 100] ^= 0x40;
    writeFileSync(file(SHARD), bad);
    const evaluate = stage('evaluate');
    assert.equal(evaluate.status, 1, evaluate.stderr);
    assert.match(evaluate.stderr, CORRUPT(SHARD));
    const verify = ws.caption(['status', '--verify'], { allowFail: true });
    assert.equal(verify.code, 1);
    assert.match(verify.stdout, new RegExp(`features +corrupt +${SHARD.replace(/[./]/g, '\\$&')}: sha256 [0-9a-f]{64} != [0-9a-f]{64}`));
    assert.match(verify.stdout, /ingest +ok +\d+ files/);
    assert.match(verify.stderr, /corrupt artifact: features \(named above\)/);

    ws.caption(['run', 'pipelines/tiny.yaml', '--quiet']); // every stage a cache hit: Turbo puts the outputs back
    assert.ok(readFileSync(file(SHARD)).equals(good), 'restored from the Turbo cache');
    assert.equal(ws.caption(['status', '--verify']).code, 0);
  });

  test('a truncated shard and a checkpoint with a zeroed tail are refused by name (stage and caption predict)', () => {
    const shard = readFileSync(file(SHARD));
    writeFileSync(file(SHARD), shard.subarray(0, shard.length - 4096));
    const train = stage('train');
    assert.equal(train.status, 1);
    assert.match(train.stderr, CORRUPT(SHARD));
    writeFileSync(file(SHARD), shard);

    const weights = readFileSync(file(WEIGHTS));
    const zeroed = Buffer.from(weights);
    zeroed.fill(0, zeroed.length - 512);
    writeFileSync(file(WEIGHTS), zeroed);
    const predict = ws.caption(['predict', 'artifacts/ingest/dataset/Flicker8k_Dataset'], { allowFail: true });
    assert.equal(predict.code, 1);
    assert.match(predict.stderr, CORRUPT(WEIGHTS));
    assert.equal(predict.stdout, '', 'no caption from a corrupt checkpoint');
    writeFileSync(file(WEIGHTS), weights);
    assert.equal(ws.caption(['status', '--verify']).code, 0);
  });

  test('while a run holds the lock: --no-wait fails naming it, status leaves the params files alone, turbo run waits for it', async () => {
    const lock = await acquireLock({ root: ws.dir, runId: 'caption run pipelines/other.yaml (run 0099-other)' });
    try {
      const params = STAGES.map((s) => ws.readFile(`.caption/params/${s}.json`));
      ws.writeFile('pipelines/tiny-2.yaml', TINY.replace('epochs: 1', 'epochs: 2'));
      for (const args of [['run', 'pipelines/tiny-2.yaml'], ['status', 'pipelines/tiny-2.yaml'], ['resolve', 'pipelines/tiny-2.yaml']]) {
        const r = ws.caption([...args, '--no-wait'], { allowFail: true });
        assert.equal(r.code, 75, `${args[0]}: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`the workspace is locked by caption run pipelines/other\\.yaml \\(run 0099-other\\) \\(pid ${process.pid}, since `));
      }
      assert.deepEqual(STAGES.map((s) => ws.readFile(`.caption/params/${s}.json`)), params, 'nothing swapped the params files');

      const turbo = spawn(path.join(ws.dir, 'node_modules/.bin/turbo'), ['run', 'evaluate', '--force'], { cwd: ws.dir, env: { ...process.env, CAPTION_ROOT: '' } });
      let out = '';
      turbo.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      turbo.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
      const exited = new Promise<number | null>((resolve) => turbo.on('exit', resolve));
      for (let waited = 0; !/waiting: the workspace is locked by caption run pipelines\/other\.yaml/.test(out); waited += 100) {
        assert.ok(waited < 120_000, `turbo's first stage never said it waits:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.doesNotMatch(out, /\[ingest\] demo/, 'no stage ran while the lock was held');
      await lock.release();
      assert.equal(await exited, 0, out);
    } finally {
      await lock.release();
    }
  });

  test('a lock left by a killed run is taken over; two caption runs started together both succeed, one after the other', async () => {
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    mkdirSync(path.dirname(lockFile(ws.dir)), { recursive: true });
    writeFileSync(lockFile(ws.dir), JSON.stringify({ token: 'x', runId: 'caption run (killed)', pid: dead, host: os.hostname(), started: '2026-01-01T00:00:00Z' }));
    const before = runs().length;
    const start = () => new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'packages/cli/src/main.ts', 'run', 'pipelines/tiny.yaml', '--quiet', '--force'], { cwd: ws.dir, env: { ...process.env, CAPTION_ROOT: '' } });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('exit', (code) => resolve({ code, stderr }));
    });
    const [a, b] = await Promise.all([start(), start()]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.match(a.stderr + b.stderr, /took over the workspace lock of caption run \(killed\)/);
    assert.match(a.stderr + b.stderr, /waiting: the workspace is locked by caption run pipelines\/tiny\.yaml/);
    const recorded = runs().slice(before);
    assert.equal(recorded.length, 2);
    assert.ok(recorded.every((r) => r.ok && Object.keys(r.stages).length === STAGES.length), JSON.stringify(recorded));
    assert.notEqual(recorded[0].summary, recorded[1].summary, 'each run record points at its own Turbo summary');
    assert.ok(!existsSync(lockFile(ws.dir)), 'released');
  });
});
