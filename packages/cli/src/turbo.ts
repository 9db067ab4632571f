/**
 * Talking to Turbo: run it, ask it what it would do (`--dry=json`), and read the run summaries that
 * `--summarize` leaves in `.turbo/runs/`. Both JSON shapes are reduced to one per-stage task record.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError, STAGES, repoRoot, type StageName } from '@caption/core';

export interface TurboTask {
  stage: StageName;
  hash: string;                    // Turbo's task hash: inputs + params file + dependency hashes + env
  cache: 'HIT' | 'MISS';
  inputs: Record<string, string>;  // repo-relative file -> git object hash, as Turbo hashed it
  dependencies: StageName[];
  wallMs?: number;                 // only in a run summary
}

const TURBO_ENV = { TURBO_TELEMETRY_DISABLED: '1', TURBO_NO_UPDATE_NOTIFIER: '1', DO_NOT_TRACK: '1' };

/** `turbo <args>` in the repository root, output passed through. Resolves to the exit code. */
export function turbo(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(turboBin(), args, { cwd: repoRoot(), stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...TURBO_ENV } });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

/**
 * Turbo's global hash inputs: a change here misses every task. `internal` is the hash of the workspace
 * packages the root package.json depends on, so editing one of those misses even stages that do not use it.
 */
export type GlobalInputs = Record<string, string>;

export interface TurboRun {
  global: GlobalInputs;
  tasks: TurboTask[];
}

/** What `turbo run evaluate` would do now, per stage, without running anything. */
export async function dryRun(): Promise<TurboRun> {
  const { code, stdout, stderr } = await capture(turboBin(), ['run', 'evaluate', '--dry=json']);
  if (code !== 0) throw new PipelineError('internal', `turbo run evaluate --dry=json failed (exit ${code}): ${stderr.trim().slice(-2000)}`);
  let json: TurboJson;
  try {
    json = JSON.parse(stdout) as TurboJson;
  } catch (err) {
    throw new PipelineError('internal', `cannot parse turbo --dry=json output: ${(err as Error).message}`);
  }
  return toRun(json);
}

export const summariesDir = (root = repoRoot()) => path.join(root, '.turbo', 'runs');

export async function listSummaries(root = repoRoot()): Promise<string[]> {
  const dir = summariesDir(root);
  return existsSync(dir) ? (await readdir(dir)).filter((f) => f.endsWith('.json')).map((f) => path.join(dir, f)) : [];
}

/** The per-stage tasks of one `.turbo/runs/*.json` run summary (cache status, hashes, wall time). */
export async function readSummary(file: string): Promise<TurboRun> {
  return toRun(JSON.parse(await readFile(file, 'utf8')) as TurboJson);
}

interface TurboJson {
  globalCacheInputs?: Record<string, unknown>;
  tasks: {
    taskId: string;
    hash: string;
    directory: string;
    cache: { status: string };
    inputs?: Record<string, string>;
    dependencies?: string[];
    execution?: { startTime: number; endTime: number };
  }[];
}

const stageOf = (taskId: string) => taskId.split('#')[1] as StageName;

function toRun(json: TurboJson): TurboRun {
  const global = Object.fromEntries(Object.entries(json.globalCacheInputs ?? {})
    .filter(([k]) => k !== 'rootKey')
    .map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  return { global, tasks: toTasks(json) };
}

function toTasks(json: TurboJson): TurboTask[] {
  const tasks = json.tasks
    .filter((t) => (STAGES as readonly string[]).includes(stageOf(t.taskId)))
    .map((t): TurboTask => ({
      stage: stageOf(t.taskId),
      hash: t.hash,
      cache: t.cache.status === 'HIT' ? 'HIT' : 'MISS',
      // Turbo lists inputs relative to the task's package; repo-relative paths read better and compare across tasks.
      inputs: Object.fromEntries(Object.entries(t.inputs ?? {}).map(([f, h]) => [path.posix.normalize(path.posix.join(t.directory, f)), h])),
      dependencies: (t.dependencies ?? []).map(stageOf),
      ...(t.execution ? { wallMs: t.execution.endTime - t.execution.startTime } : {}),
    }));
  return tasks.sort((a, b) => STAGES.indexOf(a.stage) - STAGES.indexOf(b.stage));
}

const turboBin = () => path.join(repoRoot(), 'node_modules', '.bin', 'turbo');

function capture(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...TURBO_ENV } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}
