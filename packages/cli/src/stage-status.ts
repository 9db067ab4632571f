/**
 * What `caption run` would do for a resolved pipeline, per stage, and why — without running a stage.
 * Turbo's dry run says hit or miss (it hashes exactly what a real run hashes); the recorded runs say what the
 * current artifacts were built from, so a miss can be explained: a changed param, a changed input file, or a
 * stale upstream stage.
 */
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MANIFEST_FILE, STAGES, artifactDir, paramsFile, type StageName, type StageParamsFile } from '@caption/core';
import { writeParamsFiles, type ResolvedPipeline } from './pipeline.ts';
import { stageParamChanges, type ParamChange } from './params-diff.ts';
import { currentManifests, listRuns, type RunRecord } from './runs-history.ts';
import { dryRun, type TurboTask } from './turbo.ts';

export type StageState = 'cached' | 'stale' | 'missing';

export interface StageStatus {
  stage: StageName;
  state: StageState;
  hash: string;                  // Turbo task hash for the resolved params
  note?: string;                 // cached: whether the artifact on disk is already this one
  comparedWith?: string;         // the run (or 'manifest') a stale stage is explained against
  params: ParamChange[];
  files: { file: string; change: 'changed' | 'added' | 'removed' }[];
  upstream: StageName[];         // dependencies that are stale or missing themselves
  global: string[];              // Turbo global hash inputs that changed (they miss every task)
}

export async function pipelineStatus(resolved: ResolvedPipeline): Promise<StageStatus[]> {
  const { global, tasks } = await withParamsFiles(resolved, dryRun);
  const runs = (await listRuns()).filter((r) => r.ok);
  const manifests = await currentManifests();
  const byStage = new Map(tasks.map((t) => [t.stage, t]));
  const out: StageStatus[] = [];
  for (const task of tasks) {
    const onDisk = manifests[task.stage];
    const base: StageStatus = { stage: task.stage, state: 'cached', hash: task.hash, params: [], files: [], upstream: [], global: [] };
    if (task.cache === 'HIT') {
      out.push({ ...base, note: cachedNote(task, onDisk, runs) });
      continue;
    }
    const state: StageState = onDisk ? 'stale' : 'missing';
    const upstream = task.dependencies.filter((d) => byStage.get(d)?.cache === 'MISS');
    // What the artifact on disk was built from: the latest run that produced exactly it; else the latest run of
    // this pipeline (e.g. the artifact was removed).
    const ref = [...runs].reverse().find((r) => onDisk && r.stages[task.stage]?.manifest === onDisk)
      ?? [...runs].reverse().find((r) => r.pipeline === resolved.name && r.stages[task.stage]);
    if (ref) {
      out.push({
        ...base, state, upstream, comparedWith: ref.id,
        params: stageParamChanges(task.stage, ref.params[task.stage], resolved[task.stage]),
        files: fileChanges(ref.stages[task.stage]!.inputs, task.inputs),
        global: Object.keys({ ...ref.turboGlobal, ...global }).filter((k) => ref.turboGlobal?.[k] !== global[k]),
      });
    } else if (onDisk) {
      // No recorded run (artifacts from plain `turbo run`): the manifest still holds the params it was built with.
      const manifest = JSON.parse(await readFile(path.join(artifactDir(task.stage), MANIFEST_FILE), 'utf8')) as { params: unknown };
      const built: StageParamsFile<unknown> = { ...resolved[task.stage], params: manifest.params };
      out.push({ ...base, state, upstream, comparedWith: 'manifest', params: stageParamChanges(task.stage, built, resolved[task.stage]) });
    } else {
      out.push({ ...base, state, upstream });
    }
  }
  return out;
}

/**
 * Run `fn` with the resolved params files in place (a dry run hashes them), then put back exactly what was
 * there before: status must leave the workspace as it found it.
 */
async function withParamsFiles<T>(resolved: ResolvedPipeline, fn: () => Promise<T>): Promise<T> {
  const saved = new Map<StageName, string | undefined>();
  for (const s of STAGES) saved.set(s, existsSync(paramsFile(s)) ? await readFile(paramsFile(s), 'utf8') : undefined);
  const restore = async () => {
    for (const [s, text] of saved) {
      if (text === undefined) await rm(paramsFile(s), { force: true });
      else if (!existsSync(paramsFile(s)) || (await readFile(paramsFile(s), 'utf8')) !== text) await writeFile(paramsFile(s), text);
    }
  };
  const onSignal = () => void restore().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  try {
    await writeParamsFiles(resolved);
    return await fn();
  } finally {
    process.off('SIGINT', onSignal);
    await restore();
  }
}

function cachedNote(task: TurboTask, onDisk: string | undefined, runs: RunRecord[]): string {
  const producer = [...runs].reverse().find((r) => r.stages[task.stage]?.hash === task.hash && r.stages[task.stage]?.manifest);
  if (!producer) return 'in the Turbo cache';
  if (producer.stages[task.stage]!.manifest === onDisk) return 'up to date';
  return `in the Turbo cache (run ${producer.id}); \`caption run\` restores it`;
}

/** Input files whose content differs, ignoring the params files (their changes are listed param by param). */
function fileChanges(before: Record<string, string>, after: Record<string, string>): StageStatus['files'] {
  const out: StageStatus['files'] = [];
  for (const file of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    if (file.startsWith('.caption/params/')) continue;
    if (!(file in before)) out.push({ file, change: 'added' });
    else if (!(file in after)) out.push({ file, change: 'removed' });
    else if (before[file] !== after[file]) out.push({ file, change: 'changed' });
  }
  return out;
}
