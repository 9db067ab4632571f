/**
 * One pipeline execution: write the params files, `turbo run evaluate --summarize`, then record the run
 * (params, artifact manifest hashes, metrics, per-stage cache status and wall time from Turbo's summary).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  MANIFEST_FILE, STAGES, artifactDir, repairFromStore, canonicalJson, catalog, openStage, repoRoot, sha256, type StageName, type StageParamsFile,
} from '@caption/core';
import { writeParamsFiles, type ResolvedPipeline } from './pipeline.ts';
import { currentManifests, metricsFromReport, recordRun, type RunRecord, type StageRun } from './runs-history.ts';
import { listSummaries, readSummary, turbo } from './turbo.ts';
import { variantLabel } from './matrix.ts';

export interface ExecuteOptions {
  force?: boolean;
  matrix?: string;   // id of the first run of the matrix this run belongs to
}

export async function executePipeline(resolved: ResolvedPipeline, opts: ExecuteOptions = {}): Promise<RunRecord> {
  const root = repoRoot();
  const changed = await writeParamsFiles(resolved);
  const label = resolved.variant ? ` [${variantLabel(resolved.variant)}]` : '';
  process.stderr.write(`[caption] pipeline ${resolved.name}${label}: params changed for ${changed.join(', ') || 'no stage'}\n`);

  const before = new Set(await listSummaries(root));
  const startedAt = new Date();
  const args = ['run', 'evaluate', '--summarize', '--output-logs=new-only'];
  if (opts.force) args.push('--force');
  const code = await turbo(args);
  // The summary this run wrote is the one that was not there before.
  const summary = (await listSummaries(root)).find((f) => !before.has(f));
  const { global, tasks } = summary ? await readSummary(summary) : { global: {}, tasks: [] };
  if (code === 0) await restoreArtifacts(root, tasks.filter((t) => t.cache === 'HIT').map((t) => t.stage));
  const wallMs = Date.now() - startedAt.getTime();
  const manifests = await currentManifests(root);
  const stages: Partial<Record<StageName, StageRun>> = {};
  for (const t of tasks) {
    stages[t.stage] = { hash: t.hash, cache: t.cache, inputs: t.inputs, ...(t.wallMs !== undefined ? { wallMs: t.wallMs } : {}), ...(code === 0 && manifests[t.stage] ? { manifest: manifests[t.stage] } : {}) };
  }
  const params = Object.fromEntries(STAGES.map((s) => [s, resolved[s]])) as Record<StageName, StageParamsFile<unknown>>;
  const metrics = code === 0 ? await reportMetricsOf(root) : {};

  const record = await recordRun({
    pipeline: resolved.name,
    file: path.relative(root, resolved.file),
    startedAt: startedAt.toISOString(),
    wallMs,
    ok: code === 0,
    forced: Boolean(opts.force),
    ...(resolved.variant ? { variant: resolved.variant } : {}),
    ...(opts.matrix ? { matrix: opts.matrix } : {}),
    paramsHash: sha256(canonicalJson(params)),
    params,
    stages,
    turboGlobal: global,
    metrics,
    ...(await trainBackend(root)),
    ...(summary ? { summary: path.relative(root, summary) } : {}),
  }, root);
  const hits = tasks.filter((t) => t.cache === 'HIT').length;
  process.stderr.write(`[caption] recorded run ${record.id}: ${code === 0 ? 'ok' : `failed (turbo exit ${code})`}, ${hits}/${tasks.length} cache hits, ${(wallMs / 1000).toFixed(1)} s\n`);
  return record;
}

const present = (stage: StageName, root: string) => existsSync(path.join(artifactDir(stage, root), MANIFEST_FILE));

/**
 * Stages that were Turbo hits got back their manifests and small files, not the large files Turbo does not
 * cache: those missing are fetched from the store (opening does it), those damaged are replaced from it.
 */
async function restoreArtifacts(root: string, hits: StageName[]): Promise<void> {
  for (const stage of hits) {
    if (!present(stage, root)) continue;
    const artifact = await openStage(stage, artifactDir(stage, root));
    await repairFromStore(artifact.dir, artifact.manifest);
  }
}

/** The scores of the evaluate report now on disk (read verified). */
async function reportMetricsOf(root: string): Promise<Record<string, number>> {
  if (!present('evaluate', root)) return {};
  return metricsFromReport(await catalog.evaluate.report.load(await openStage('evaluate', artifactDir('evaluate', root))));
}

/** The TF.js backend the model was trained on (train's manifest records it). */
async function trainBackend(root: string): Promise<{ backend?: string }> {
  if (!present('train', root)) return {};
  const backend = (await openStage('train', artifactDir('train', root))).manifest.extra?.backend;
  return typeof backend === 'string' ? { backend } : {};
}
