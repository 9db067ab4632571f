/**
 * A throw-away copy of this repository (tracked + untracked, non-ignored files), installed offline from
 * the local pnpm store and committed to a fresh git repo: what a user's fresh clone looks like, without
 * touching this checkout's artifacts or Turbo cache.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Workspace {
  dir: string;
  caption(args: string[], opts?: { allowFail?: boolean }): { code: number; stdout: string; stderr: string };
  turbo(args: string[]): { code: number; stdout: string; stderr: string };
  writeFile(rel: string, text: string): void;
  readFile(rel: string): string;
  lastTurboSummary(): TurboSummary;
  remove(): void;
}

export interface TurboSummary {
  tasks: { taskId: string; cache: { status: 'HIT' | 'MISS' } }[];
}

export function createWorkspace(prefix = 'caption-ws-'): Workspace {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: REPO })
    .toString().split('\0').filter(Boolean);
  for (const rel of files) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    cpSync(path.join(REPO, rel), path.join(dir, rel));
  }
  run('pnpm', ['install', '--offline', '--frozen-lockfile', '--reporter=silent'], dir);
  run('git', ['init', '-q'], dir);
  run('git', ['add', '-A'], dir);
  run('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'snapshot'], dir);

  return {
    dir,
    caption(args, opts = {}) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'packages/cli/src/main.ts', ...args], {
        cwd: dir, encoding: 'utf8', env: { ...process.env, CAPTION_ROOT: '' }, maxBuffer: 64 << 20,
      });
      const result = { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
      if (result.code !== 0 && !opts.allowFail) {
        throw new Error(`caption ${args.join(' ')} exited ${result.code}\n${result.stderr.slice(-4000)}`);
      }
      return result;
    },
    turbo(args) {
      const r = spawnSync(path.join(dir, 'node_modules', '.bin', 'turbo'), args, {
        cwd: dir, encoding: 'utf8', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', CAPTION_ROOT: '' }, maxBuffer: 64 << 20,
      });
      return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
    },
    writeFile: (rel, text) => {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), text);
    },
    readFile: (rel) => readFileSync(path.join(dir, rel), 'utf8'),
    lastTurboSummary() {
      const runs = path.join(dir, '.turbo', 'runs');
      const newest = readdirSync(runs).filter((f) => f.endsWith('.json'))
        .map((f) => path.join(runs, f)).sort((a, b) => mtime(b) - mtime(a))[0];
      return JSON.parse(readFileSync(newest, 'utf8')) as TurboSummary;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const mtime = (f: string) => statSync(f).mtimeMs;

function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${r.stderr}`);
}

/** Cache status per stage from a Turbo run summary, e.g. { ingest: 'HIT', train: 'MISS', ... }. */
export function cacheStatus(summary: TurboSummary): Record<string, string> {
  return Object.fromEntries(summary.tasks.map((t) => [t.taskId.split('#')[1], t.cache.status]));
}

/** sha256 of every file under `root`, keyed by path relative to it. */
export function fileHashes(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else out[path.relative(root, full)] = createHash('sha256').update(readFileSync(full)).digest('hex');
    }
  };
  walk(root);
  return out;
}
