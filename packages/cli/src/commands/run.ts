/**
 * `caption run <pipeline.yaml>`: resolve the YAML into per-stage params files, then `turbo run evaluate`
 * so every stage is a cached Turbo task; record the run in `.caption/runs/` and print the evaluation report.
 * A pipeline with a `matrix` runs each variant in turn (each recorded) and prints one comparison table.
 */
import path from 'node:path';
import { PipelineError } from '@caption/core';
import { resolveVariants } from '../pipeline.ts';
import { executePipeline } from '../execute.ts';
import { formatValue, variantLabel } from '../matrix.ts';
import { writeRunReport } from '../run-report.ts';
import { METRICS, nextRunId, type RunRecord } from '../runs-history.ts';
import { fixed, seconds, textTable } from '../text-table.ts';
import type { Command } from '../command.ts';

export const runCommand: Command = {
  name: 'run',
  summary: 'resolve a pipeline and run its stages through Turbo (cached); records the run, prints the BLEU report\n' +
    '(a pipeline with a `matrix` runs every variant and prints a comparison table)',
  usage: 'caption run <pipeline.yaml> [--force] [--quiet]',
  options: {
    force: { type: 'boolean', description: 'ignore the Turbo cache and re-run every stage' },
    quiet: { type: 'boolean', description: 'do not print the report (or the matrix table) at the end' },
  },
  locks: true,
  async run({ positionals, values, lock }) {
    if (positionals.length !== 1) throw new PipelineError('usage', 'run takes exactly one pipeline file');
    const variants = await resolveVariants(path.resolve(positionals[0]));
    await lock?.describe(`caption run ${positionals[0]} (run ${await nextRunId(variants[0].name)})`);
    const records: RunRecord[] = [];
    const reports: Awaited<ReturnType<typeof writeRunReport>>[] = [];
    for (const [i, resolved] of variants.entries()) {
      if (resolved.variant) process.stderr.write(`[caption] variant ${i + 1}/${variants.length}: ${variantLabel(resolved.variant)}\n`);
      const record = await executePipeline(resolved, { force: Boolean(values.force), matrix: records[0]?.id });
      records.push(record);
      if (!record.ok) throw new PipelineError('internal', `turbo run evaluate failed (run ${record.id}${resolved.variant ? `, variant ${variantLabel(resolved.variant)}` : ''})`);
      reports.push(await writeRunReport(record)); // now, while artifacts/evaluate is this variant's
      process.stderr.write(`[caption] report with the previous run: ${reports.at(-1)!.files.map((f) => path.relative(process.cwd(), f)).join(', ')}\n`);
    }
    if (values.quiet) return;
    if (variants[0].matrix) {
      process.stdout.write(`\nmatrix ${variants[0].name}: ${records.length} variants\n\n${comparisonTable(records, Object.keys(variants[0].matrix))}`);
      return;
    }
    process.stdout.write(`\n${reports[0].markdown}`);
  },
};

/** One row per variant: its matrix values, then the metrics, wall time and cache hits of its run. */
export function comparisonTable(records: RunRecord[], keys: string[]): string {
  const metrics = Object.keys(METRICS).filter((m) => ['bleu1', 'bleu4', 'ciderD'].includes(m) && records.some((r) => r.metrics[m] !== undefined));
  const headers = ['run', ...keys, ...metrics.map((m) => METRICS[m]), 'wall', 'cached'];
  const rows = records.map((r) => {
    const stages = Object.values(r.stages);
    return [
      r.id,
      ...keys.map((k) => (r.variant && k in r.variant ? formatValue(r.variant[k]) : '-')),
      ...metrics.map((m) => fixed(r.metrics[m])),
      seconds(r.wallMs),
      `${stages.filter((s) => s?.cache === 'HIT').length}/${stages.length}`,
    ];
  });
  return textTable(headers, rows);
}
