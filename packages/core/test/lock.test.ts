/**
 * The workspace lock: one holder at a time (proved with real processes racing on a shared counter), a second
 * taker waits or fails naming the holder, a dead holder's lock is taken over, children of the holder run under it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PipelineError } from '../src/errors.ts';
import { LOCK_TOKEN_ENV, acquireLock, lockFile, withLock, type LockHolder } from '../src/lock.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const LOCK = path.join(here, '../src/lock.ts');

function withRoot(fn: (root: string) => Promise<void>) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'core-lock-'));
  return fn(root).finally(() => fs.rmSync(root, { recursive: true, force: true }));
}

const holderOf = (root: string) => JSON.parse(fs.readFileSync(lockFile(root), 'utf8')) as LockHolder;

test('lock: a second taker with wait: false fails naming the holder (run id, pid); after release it gets the lock', async () => {
  await withRoot(async (root) => {
    const first = await acquireLock({ root, runId: 'caption run pipelines/a.yaml (run 0001-a)' });
    assert.equal(holderOf(root).pid, process.pid);
    await assert.rejects(acquireLock({ root, runId: 'second', wait: false }), (err: unknown) => {
      assert.ok(err instanceof PipelineError);
      assert.equal(err.code, 'locked');
      assert.match(err.message, new RegExp(`locked by caption run pipelines/a\\.yaml \\(run 0001-a\\) \\(pid ${process.pid}, since `));
      return true;
    });
    await first.release();
    assert.ok(!fs.existsSync(lockFile(root)));
    const second = await acquireLock({ root, runId: 'second', wait: false });
    await second.release();
  });
});

test('lock: a waiting taker says once who it waits for, and proceeds when the holder releases', async () => {
  await withRoot(async (root) => {
    const first = await acquireLock({ root, runId: 'first' });
    const waits: LockHolder[] = [];
    let got = false;
    const second = acquireLock({ root, runId: 'second', pollMs: 20, onWait: (h) => waits.push(h) }).then((l) => ((got = true), l));
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(got, false, 'must wait while the first holds it');
    assert.deepEqual(waits.map((h) => h.runId), ['first']);
    await first.release();
    const lock = await second;
    assert.equal(holderOf(root).runId, 'second');
    await lock.release();
  });
});

test('lock: a lock left by a dead process (or a reused pid) is taken over', async () => {
  await withRoot(async (root) => {
    fs.mkdirSync(path.dirname(lockFile(root)), { recursive: true });
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    const stale: LockHolder = { token: 'dead', runId: 'killed run', pid: dead, host: os.hostname(), started: '2026-01-01T00:00:00Z' };
    fs.writeFileSync(lockFile(root), JSON.stringify(stale));
    const lock = await acquireLock({ root, runId: 'after the crash', wait: false });
    assert.equal(holderOf(root).runId, 'after the crash');
    await lock.release();
    // this pid is alive, but it started at another time: the pid was reused, the holder is gone
    fs.writeFileSync(lockFile(root), JSON.stringify({ ...stale, pid: process.pid, procStart: '1' }));
    (await acquireLock({ root, runId: 'reused pid', wait: false })).release();
  });
});

test('lock: withLock runs a child of the holder (token in its env) under the holder\'s lock, others wait', async () => {
  await withRoot(async (root) => {
    const lock = await acquireLock({ root, runId: 'caption run' });
    const saved = process.env[LOCK_TOKEN_ENV];
    try {
      process.env[LOCK_TOKEN_ENV] = lock.holder.token;
      assert.equal(await withLock('stage train', async () => 'ran', { root, wait: false }), 'ran');
      process.env[LOCK_TOKEN_ENV] = 'some other token';
      await assert.rejects(withLock('stage train', async () => 'ran', { root, wait: false }), { code: 'locked' });
    } finally {
      if (saved === undefined) delete process.env[LOCK_TOKEN_ENV];
      else process.env[LOCK_TOKEN_ENV] = saved;
      await lock.release();
    }
  });
});

test('lock: 6 processes racing for it, each doing a non-atomic read-increment-write, never lose an update', async () => {
  await withRoot(async (root) => {
    const counter = path.join(root, 'counter');
    fs.writeFileSync(counter, '0');
    const script = path.join(root, 'racer.mts');
    fs.writeFileSync(script, `
      import { readFileSync, writeFileSync } from 'node:fs';
      import { withLock } from ${JSON.stringify(LOCK)};
      for (let i = 0; i < 5; i++) {
        await withLock('racer', async () => {
          const n = Number(readFileSync(${JSON.stringify(counter)}, 'utf8'));
          await new Promise((r) => setTimeout(r, 2)); // widen the window a lost update needs
          writeFileSync(${JSON.stringify(counter)}, String(n + 1));
        }, { root: ${JSON.stringify(root)}, pollMs: 5, onWait: () => {} });
      }`);
    const exits = await Promise.all(Array.from({ length: 6 }, () => new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: 'inherit' });
      child.on('exit', resolve);
    })));
    assert.deepEqual(exits, [0, 0, 0, 0, 0, 0]);
    assert.equal(fs.readFileSync(counter, 'utf8'), '30');
    assert.ok(!fs.existsSync(lockFile(root)));
  });
});
