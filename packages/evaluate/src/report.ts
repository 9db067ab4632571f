/** The evaluation report as Markdown (what `caption run` prints). */
import type { PreviousRun } from './previous-run.ts';
import { METRIC_LABELS, METRICS, metricValues, type EvaluationReport, type MetricName } from './transform.ts';

export interface ReportMeta { pipeline: string; split: string; decoder: string; backbone: string; decoding?: string }

const f = (x: number | undefined) => (x === undefined ? '–' : x.toFixed(4));

/** Table rows (name + one value per metric): model, constant baseline, their delta; previous run and delta. */
export interface MetricRow { key: 'model' | 'constant' | 'model-constant' | 'previous' | 'model-previous'; name: string; values: (number | undefined)[] }

export function metricRows(r: EvaluationReport, previous?: PreviousRun): MetricRow[] {
  const model = metricValues(r);
  // no caption to hold up (a data set scored as a whole, with no train split): no row of zeros for ""
  const constant = r.baseline.caption ? metricValues(r.baseline) : undefined;
  const rows: MetricRow[] = [
    { key: 'model', name: 'model', values: METRICS.map((m) => model[m]) },
    { key: 'constant', name: constant ? `constant: "${r.baseline.caption}"` : `constant: none (${NO_CONSTANT})`, values: METRICS.map((m) => constant?.[m]) },
    { key: 'model-constant', name: 'model − constant', values: METRICS.map((m) => (constant ? model[m] - constant[m] : undefined)) },
  ];
  if (previous) {
    const before = (m: MetricName) => previous.metrics[m];
    rows.push(
      { key: 'previous', name: `previous: ${previousLabel(previous)}`, values: METRICS.map(before) },
      { key: 'model-previous', name: 'model − previous', values: METRICS.map((m) => (before(m) === undefined ? undefined : model[m] - before(m)!)) },
    );
  }
  return rows;
}

export const NO_CONSTANT = 'no train caption scores above 0 BLEU-4 here, or the data set has no train split';

export const previousLabel = (p: PreviousRun) => `run ${p.id} (pipeline \`${p.pipeline}\`, ${p.decoder}, ${p.decoding})`;

/** The note under the table: the artifact's own (no comparison inside it), or the previous run it is compared with. */
export function previousNote(previous: PreviousRun | undefined, rendered: boolean): string {
  if (previous) return `Previous run: ${previousLabel(previous)}.`;
  return rendered ? 'No earlier run in the runs history: nothing to compare with.'
    : 'The comparison with the previous run is not part of this artifact: `caption run` writes it to `.caption/reports/`.';
}

/** `rendered`: this is `caption run`'s copy (with the runs history), not the artifact's. */
export function reportMarkdown(r: EvaluationReport, meta: ReportMeta, previous?: PreviousRun, rendered = false): string {
  return [
    `# Evaluation report — pipeline \`${meta.pipeline}\``,
    '',
    `${r.images} ${meta.split} images, ${meta.decoder} decoder on ${meta.backbone} features, ${meta.decoding ?? 'greedy decoding'}.`,
    'Corpus BLEU-1..4, CIDEr-D and ROUGE-L with coco-caption semantics, on PTB-tokenized lowercase text without punctuation.',
    previousNote(previous, rendered),
    '',
    `| system | ${METRICS.map((m) => METRIC_LABELS[m]).join(' | ')} |`,
    `|---|${METRICS.map(() => '---|').join('')}`,
    ...metricRows(r, previous).map((row) => `| ${row.name} | ${row.values.map(f).join(' | ')} |`),
    '',
    '## Sample predictions',
    '',
    ...r.samples.flatMap((s) => [`- **${s.image_id}**: ${s.prediction || '(empty)'}`, ...s.references.map((ref) => `  - ref: ${ref}`)]),
    '',
  ].join('\n');
}
