/**
 * Crash-resume tests: run a script in a child Node process (with tsx) and kill -9 it as soon as a file it
 * writes appears, i.e. at a known point in the middle of its work.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Spawn `node --import tsx <script>`, poll every 5 ms for `file`, SIGKILL the child once it exists, and
 * resolve after the child has exited. Rejects if the child exits (or fails to start) before `file` appears.
 */
export async function runUntilFileThenKill(script: string, file: string): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const poll = setInterval(() => {
      if (existsSync(file)) (clearInterval(poll), child.kill('SIGKILL'), resolve());
    }, 5);
    child.once('error', (err) => (clearInterval(poll), reject(err)));
    child.once('exit', () => (clearInterval(poll), reject(new Error('child finished before it could be killed'))));
  });
  await exited;
}

/**
 * Spawn `node --import tsx <script>` with CAPTION_FAILPOINT=`failpoint`: the child SIGKILLs itself when it
 * reaches that point (core's `failpoint()`), an exact crash. Rejects if it exits any other way.
 */
export async function runUntilFailpoint(script: string, failpoint: string): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CAPTION_FAILPOINT: failpoint } });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c, s) => resolve([c, s]));
  });
  if (signal !== 'SIGKILL') throw new Error(`child did not reach failpoint ${failpoint} (exit ${code}, signal ${signal}):\n${stderr.slice(-2000)}`);
}
