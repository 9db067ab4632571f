/**
 * The workspace lock (`.caption/lock`): one run per workspace at a time. `caption run|resolve|status` take it
 * for the whole command and hand its token to their Turbo tasks (CAPTION_LOCK_TOKEN), so those stage commands
 * run under it; a stage command started straight from `turbo run` takes it for itself. A second taker waits
 * (saying who holds it) or, with `wait: false`, fails with that message. A lock whose process is gone
 * (same host, pid dead or reused) is taken over.
 */
import { existsSync, readFileSync } from 'node:fs';
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { PipelineError } from './errors.ts';
import { processAlive } from './io/atomic.ts';
import { repoRoot } from './paths.ts';

export const LOCK_TOKEN_ENV = 'CAPTION_LOCK_TOKEN';

export interface LockHolder {
  token: string;        // unique per acquisition; children that carry it run under this lock
  runId: string;        // what the holder calls itself (`caption run pipelines/demo.yaml`, `stage train`)
  pid: number;
  host: string;
  started: string;      // ISO time
  procStart?: string;   // /proc start time of the pid: tells a live holder from a reused pid
}

export interface WorkspaceLock {
  holder: LockHolder;
  /** Env for child processes that work under this lock. */
  env: Record<string, string>;
  /** Say more about what holds it (e.g. the run id once known): the lock file is replaced, the token kept. */
  describe(runId: string): Promise<void>;
  release(): Promise<void>;
}

export const lockFile = (root = repoRoot()) => path.join(root, '.caption', 'lock');

export interface AcquireOptions {
  runId: string;
  wait?: boolean;                               // default true
  root?: string;
  file?: string;                                // the lock file (default: the workspace lock, lockFile(root))
  pollMs?: number;
  onWait?: (holder: LockHolder) => void;        // called once, when the first wait begins
}

/** Take the workspace lock, waiting for (or failing on) a live holder, taking over a dead one's. */
export async function acquireLock(opts: AcquireOptions): Promise<WorkspaceLock> {
  const file = opts.file ?? lockFile(opts.root);
  await mkdir(path.dirname(file), { recursive: true });
  const holder: LockHolder = {
    token: randomBytes(12).toString('hex'), runId: opts.runId, pid: process.pid, host: os.hostname(),
    started: new Date().toISOString(), ...procStartOf(process.pid),
  };
  let waited = false;
  for (;;) {
    if (await tryCreate(file, holder)) break;
    const current = await readHolder(file);
    if (!current) continue; // released meanwhile
    if (!holderAlive(current)) {
      await takeOver(file, current);
      continue;
    }
    if (opts.wait === false) throw new PipelineError('locked', `${describeHolder(current)}; try again when it has finished`);
    if (!waited) (opts.onWait ?? defaultOnWait)(current);
    waited = true;
    await sleep(opts.pollMs ?? 250);
  }
  return {
    holder,
    env: { [LOCK_TOKEN_ENV]: holder.token },
    async describe(runId) {
      holder.runId = runId;
      const tmp = `${file}.${holder.token}`;
      await writeFile(tmp, JSON.stringify(holder));
      await rename(tmp, file);
    },
    async release() {
      const current = await readHolder(file);
      if (current?.token === holder.token) await unlink(file).catch(() => {});
    },
  };
}

/**
 * For a stage command: when this process was started under a held lock (its token in the env matches the
 * lock file), run as part of that holder's run; otherwise take the lock for the duration of `fn`.
 */
export async function withLock<T>(runId: string, fn: () => Promise<T>, opts: Omit<AcquireOptions, 'runId'> = {}): Promise<T> {
  const token = process.env[LOCK_TOKEN_ENV];
  const file = opts.file ?? lockFile(opts.root);
  const current = existsSync(file) ? await readHolder(file) : undefined;
  if (token && current?.token === token && holderAlive(current)) return fn();
  const lock = await acquireLock({ runId, ...opts });
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

export function describeHolder(h: LockHolder): string {
  const where = h.host === os.hostname() ? `pid ${h.pid}` : `pid ${h.pid} on ${h.host}`;
  return `the workspace is locked by ${h.runId} (${where}, since ${h.started})`;
}

const defaultOnWait = (h: LockHolder) => process.stderr.write(`[caption] waiting: ${describeHolder(h)}\n`);

/** Create the lock file complete or not at all: a temp file hard-linked to the lock name (fails if it exists). */
async function tryCreate(file: string, holder: LockHolder): Promise<boolean> {
  const tmp = `${file}.${holder.token}`;
  await writeFile(tmp, JSON.stringify(holder));
  try {
    await link(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

async function readHolder(file: string): Promise<LockHolder | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as LockHolder;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // unreadable content cannot come from tryCreate (it links complete files): treat it as dead
    return { token: 'unreadable', runId: 'an unreadable lock file', pid: 0, host: os.hostname(), started: '?' };
  }
}

/**
 * Remove a dead holder's lock. Only one process removes at a time (the `.takeover` guard, itself a linked
 * file), and only while the lock is still the dead one: a live lock is never removed.
 */
async function takeOver(file: string, dead: LockHolder): Promise<void> {
  const guard = `${file}.takeover`;
  const me: LockHolder = { token: randomBytes(12).toString('hex'), runId: 'takeover', pid: process.pid, host: os.hostname(), started: new Date().toISOString(), ...procStartOf(process.pid) };
  if (!(await tryCreate(guard, me))) {
    const other = await readHolder(guard);
    if (other && !holderAlive(other)) await unlink(guard).catch(() => {});
    else await sleep(20);
    return;
  }
  try {
    const current = await readHolder(file);
    if (current?.token === dead.token) {
      await unlink(file).catch(() => {});
      process.stderr.write(`[caption] took over the workspace lock of ${dead.runId} (pid ${dead.pid}: no longer running)\n`);
    }
  } finally {
    await unlink(guard).catch(() => {});
  }
}

/** Alive unless provably gone: same host and the pid is dead, or it now belongs to another process. */
export function holderAlive(h: LockHolder): boolean {
  if (h.host !== os.hostname()) return true;
  if (!processAlive(h.pid)) return false;
  const now = procStartOf(h.pid).procStart;
  return !(h.procStart && now && now !== h.procStart);
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), where /proc exists. */
function procStartOf(pid: number): { procStart?: string } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { procStart: fields[19] };
  } catch {
    return {};
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
