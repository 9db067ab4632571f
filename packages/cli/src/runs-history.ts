/**
 * The runs history: one JSON file per `caption run` in `.caption/runs/`, named `<n>-<pipeline>.json` with a
 * zero-padded n, so names sort in run order. Unlike artifacts, a run record holds wall times and dates: it
 * describes one execution, not a reproducible result, and lives outside every Turbo input and output.
 */
import { existsSync } from 'node:fs';
import { link, mkdir, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  MANIFEST_FILE, PipelineError, STAGES, artifactDir, canonicalJson, repoRoot, sha256, type StageName, type StageParamsFile,
} from '@caption/core';
import type { Variant } from './matrix.ts';

export interface StageRun {
  manifest?: string;                 // sha256 of artifacts/<stage>/manifest.json after the run
  hash: string;                      // Turbo task hash
  cache: 'HIT' | 'MISS';
  wallMs?: number;
  inputs: Record<string, string>;    // repo-relative input file -> hash, as Turbo hashed them
}

export interface RunRecord {
  id: string;
  pipeline: string;
  file: string;                      // the pipeline YAML, repo-relative
  startedAt: string;                 // ISO date
  wallMs: number;
  ok: boolean;                       // turbo exited 0 (a failed quality gate is a failed run)
  forced: boolean;
  variant?: Variant;                 // matrix runs: this variant's values
  matrix?: string;                   // matrix runs: id of the first run of the same `caption run`
  paramsHash: string;                // sha256 of the canonical JSON of every stage's params file
  params: Record<StageName, StageParamsFile<unknown>>;
  stages: Partial<Record<StageName, StageRun>>;
  turboGlobal: Record<string, string>; // Turbo's global hash inputs (see turbo.ts GlobalInputs)
  metrics: Record<string, number>;   // see METRICS
  backend?: string;                  // TF.js backend train used
  summary?: string;                  // Turbo run summary, repo-relative
}

/** Metrics a run may carry, in display order: key in the record -> column title. */
export const METRICS: Record<string, string> = {
  bleu1: 'BLEU-1', bleu2: 'BLEU-2', bleu3: 'BLEU-3', bleu4: 'BLEU-4', ciderD: 'CIDEr-D', rougeL: 'ROUGE-L',
};

export const runsDir = (root = repoRoot()) => path.join(root, '.caption', 'runs');

/**
 * Write a run under the next free id. The file appears complete or not at all: it is written under a temp
 * name and hard-linked to its final name, which fails (and we take the next n) if another run got there first.
 */
export async function recordRun(draft: Omit<RunRecord, 'id'>, root = repoRoot()): Promise<RunRecord> {
  const dir = runsDir(root);
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.tmp-${process.pid}-${Date.now()}`);
  for (let n = (await lastNumber(dir)) + 1; ; n++) {
    const id = `${String(n).padStart(4, '0')}-${draft.pipeline}`;
    const record = { id, ...draft };
    await writeFile(tmp, canonicalJson(record));
    try {
      await link(tmp, path.join(dir, `${id}.json`));
      return record;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      await unlink(tmp).catch(() => {});
    }
  }
}

/** The id the next recorded run of `pipeline` gets (while the workspace lock is held, no other run takes it). */
export async function nextRunId(pipeline: string, root = repoRoot()): Promise<string> {
  const dir = runsDir(root);
  const n = existsSync(dir) ? (await lastNumber(dir)) + 1 : 1;
  return `${String(n).padStart(4, '0')}-${pipeline}`;
}

/** Every recorded run, oldest first. */
export async function listRuns(root = repoRoot()): Promise<RunRecord[]> {
  const dir = runsDir(root);
  if (!existsSync(dir)) return [];
  const files = (await readdir(dir)).filter((f) => /^\d+-.*\.json$/.test(f)).sort(byNumber);
  return Promise.all(files.map(async (f) => JSON.parse(await readFile(path.join(dir, f), 'utf8')) as RunRecord));
}

/** A run named by id (`0003-demo`), number (`3`), `latest` or `latest~N` (N runs before the latest). */
export function findRun(runs: RunRecord[], ref: string): RunRecord {
  if (!runs.length) throw new PipelineError('input', 'no runs recorded yet (`caption run <pipeline.yaml>` records one)');
  const back = /^latest(?:~(\d+))?$/.exec(ref);
  let run: RunRecord | undefined;
  if (back) run = runs[runs.length - 1 - Number(back[1] ?? 0)];
  else if (/^\d+$/.test(ref)) run = runs.find((r) => Number(r.id.split('-')[0]) === Number(ref));
  else run = runs.find((r) => r.id === ref);
  if (!run) {
    const ids = runs.slice(-5).map((r) => r.id).join(', ');
    throw new PipelineError('input', `no run '${ref}' (latest runs: ${ids}; also latest, latest~1, ...)`);
  }
  return run;
}

/** The scores of an evaluate `report.json` under METRICS keys (only those the report has). */
export function metricsFromReport(report: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  const bleu = report.bleu;
  if (Array.isArray(bleu)) bleu.slice(0, 4).forEach((b, i) => typeof b === 'number' && (out[`bleu${i + 1}`] = b));
  // CIDEr-D and ROUGE-L: accept the spellings a report may use (`cider`, `ciderD`, `cider_d`, `rougeL`, ...).
  for (const [key, value] of Object.entries(report)) {
    const k = key.toLowerCase().replace(/[^a-z]/g, '');
    const v = typeof value === 'number' ? value : (value as { score?: unknown } | null)?.score;
    if (typeof v !== 'number') continue;
    if (k === 'cider' || k === 'ciderd') out.ciderD = v;
    if (k === 'rouge' || k === 'rougel') out.rougeL = v;
  }
  return out;
}

async function lastNumber(dir: string): Promise<number> {
  return Math.max(0, ...(await readdir(dir)).map((f) => /^(\d+)-/.exec(f)?.[1]).filter(Boolean).map(Number));
}

const byNumber = (a: string, b: string) => parseInt(a, 10) - parseInt(b, 10) || a.localeCompare(b);

/** sha256 of each stage's current `artifacts/<stage>/manifest.json` (absent: no artifact). */
export async function currentManifests(root = repoRoot()): Promise<Partial<Record<StageName, string>>> {
  const out: Partial<Record<StageName, string>> = {};
  for (const stage of STAGES) {
    const file = path.join(artifactDir(stage, root), MANIFEST_FILE);
    if (existsSync(file)) out[stage] = sha256(await readFile(file));
  }
  return out;
}
