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
