/**
 * `caption run`'s report: the evaluate artifact's report rendered again beside the previous run of the runs
 * history, written next to the history as `.caption/reports/<run>.md` and `.html`. The artifact itself never
 * holds the comparison: it would depend on what ran before, which no Turbo input hashes.
 */
import path from 'node:path';
import { artifactDir, catalog, openStage, repoRoot, writeFileAtomic } from '@caption/core';
import { decodingLabel, reportMetrics, reportWithPrevious, type EvaluateParams, type PreviousRun } from '@caption/evaluate';
import { listRuns, type RunRecord } from './runs-history.ts';

export const reportsDir = (root = repoRoot()) => path.join(root, '.caption', 'reports');

/** The latest ok run recorded before `record` that has metrics, as the report names it. */
export function previousRun(runs: RunRecord[], record: RunRecord): PreviousRun | undefined {
  const before = runs.filter((r) => r.ok && Object.keys(r.metrics).length && parseInt(r.id, 10) < parseInt(record.id, 10));
  const prev = before.at(-1);
  if (!prev) return undefined;
  const train = prev.params.train?.params as { decoder?: string } | undefined;
  const evaluate = prev.params.evaluate?.params as Pick<EvaluateParams, 'beamSize' | 'lengthPenalty'> | undefined;
  return {
    id: prev.id,
    pipeline: prev.pipeline,
    decoder: train?.decoder ?? '?',
    decoding: evaluate ? decodingLabel(evaluate) : '?',
    metrics: reportMetrics({ bleu: [1, 2, 3, 4].map((n) => prev.metrics[`bleu${n}`]), ciderD: prev.metrics.ciderD, rougeL: prev.metrics.rougeL }),
  };
}

/** Render and write the run's report with its previous run; returns the Markdown and where both files went. */
export async function writeRunReport(record: RunRecord, root = repoRoot()): Promise<{ markdown: string; files: string[] }> {
  const artifact = await openStage('evaluate', artifactDir('evaluate', root));
  const reportJson = await catalog.evaluate.report.load(artifact);
  const html = await catalog.evaluate.html.load(artifact);
  const rendered = reportWithPrevious({ reportJson, html }, previousRun(await listRuns(root), record));
  const files = [path.join(reportsDir(root), `${record.id}.md`), path.join(reportsDir(root), `${record.id}.html`)];
  await writeFileAtomic(files[0], rendered.markdown);
  await writeFileAtomic(files[1], rendered.html);
  return { markdown: rendered.markdown, files };
}
