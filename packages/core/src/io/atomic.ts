/**
 * Atomic commits, the one way anything in an artifact reaches its final name: a file or a whole directory
 * (an artifact, an epoch checkpoint, a feature shard unit) is written under a temp name, fsynced, then
 * renamed into place. A kill at any instant leaves either the old unit or the new one, never a mix.
 */
import { closeSync, existsSync, fsyncSync, openSync, readdirSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Test hook: a process started with `CAPTION_FAILPOINT=<name>` kills itself with SIGKILL when it reaches the
 * failpoint of that name, so crash tests can stop a run at an exact point (between two renames, say).
 */
export function failpoint(name: string): void {
  if (process.env.CAPTION_FAILPOINT === name) process.kill(process.pid, 'SIGKILL');
}

/** fsync a file or directory by path (directories: so a rename inside them is durable). */
export function fsyncPath(p: string): void {
  const fd = openSync(p, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync every file under `dir`, then every directory bottom-up, then `dir` itself. */
export function fsyncTree(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) fsyncTree(p);
    else if (e.isFile()) fsyncPath(p);
  }
  fsyncPath(dir);
}

/** One file, complete or absent: `<file>.writing-<pid>`, fsync, rename. */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.writing-${process.pid}`;
  await writeFile(tmp, data);
  fsyncPath(tmp);
  await rename(tmp, file);
  fsyncPath(path.dirname(file));
}

/** Whether a pid (on this host) is a running process. */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Remove `<dir>.tmp-<pid>` siblings of `dir` left by processes that are gone (killed before their commit). */
export async function removeDeadTemps(dir: string): Promise<void> {
  const parent = path.dirname(dir);
  if (!existsSync(parent)) return;
  const prefix = `${path.basename(dir)}.tmp-`;
  for (const name of await readdir(parent)) {
    const pid = Number(name.slice(prefix.length));
    if (name.startsWith(prefix) && pid !== process.pid && !processAlive(pid)) await rm(path.join(parent, name), { recursive: true, force: true });
  }
}

const OLD = '.old-';

/**
 * Move a fully written directory `tmpDir` to `finalDir`, replacing what is there. POSIX cannot rename over a
 * non-empty directory, so the old one is first renamed aside (`<final>.old-<pid>`) and removed afterwards; a
 * kill between the two renames leaves no `finalDir`, and `recoverDirectory` puts the old one back.
 */
export async function commitDirectory(tmpDir: string, finalDir: string, name = path.basename(finalDir)): Promise<void> {
  fsyncTree(tmpDir);
  failpoint(`commit:${name}:written`);
  const old = `${finalDir}${OLD}${process.pid}`;
  const replacing = existsSync(finalDir);
  if (replacing) await rename(finalDir, old);
  failpoint(`commit:${name}:swapping`);
  await rename(tmpDir, finalDir);
  fsyncPath(path.dirname(finalDir));
  if (replacing) await rm(old, { recursive: true, force: true });
  failpoint(`commit:${name}:done`);
}

/**
 * After a kill inside `commitDirectory`: when `finalDir` is gone but an `.old-<pid>` copy of it is there, that
 * copy is the last committed version: rename it back. Leftover `.old-*` copies beside a present `finalDir`
 * are removed. Returns whether it restored anything.
 */
export async function recoverDirectory(finalDir: string): Promise<boolean> {
  const parent = path.dirname(finalDir);
  if (!existsSync(parent)) return false;
  const prefix = `${path.basename(finalDir)}${OLD}`;
  const olds = (await readdir(parent)).filter((n) => n.startsWith(prefix)).sort();
  let restored = false;
  for (const name of olds) {
    const old = path.join(parent, name);
    if (!existsSync(finalDir)) {
      await rename(old, finalDir);
      restored = true;
    } else {
      await rm(old, { recursive: true, force: true });
    }
  }
  return restored;
}
