/**
 * The comparison with the previous run. It is not part of the evaluate artifact (an artifact depends on its
 * declared inputs only): `caption run` finds the previous run in the runs history and renders the artifact's
 * report again with it, beside the history (`.caption/reports/<run>.md|html`).
 */
import { reportMarkdown, type ReportMeta } from './report.ts';
import { metricsTableHtml, previousNoteHtml } from './report-html.ts';
import { METRICS, type EvaluationReport, type MetricName } from './transform.ts';

export interface PreviousRun {
  id: string;                                     // the run record's id, e.g. 0003-demo
  pipeline: string;
  decoder: string;
  decoding: string;
  metrics: Partial<Record<MetricName, number>>;
}

/** report.json -> metrics by gate name (bleu: [b1..b4], ciderD, rougeL); absent or non-numeric ones left out. */
export function reportMetrics(report: Record<string, unknown>): Partial<Record<MetricName, number>> {
  const bleu = Array.isArray(report.bleu) ? report.bleu : [];
  const values: Record<MetricName, unknown> = {
    bleu1: bleu[0], bleu2: bleu[1], bleu3: bleu[2], bleu4: bleu[3], ciderD: report.ciderD, rougeL: report.rougeL,
  };
  return Object.fromEntries(METRICS.filter((m) => typeof values[m] === 'number').map((m) => [m, values[m] as number]));
}

/**
 * An evaluate artifact's report.md and report.html, rendered again with `previous` beside the model: the
 * Markdown from report.json, the HTML by replacing its metrics table and its previous-run note.
 */
export function reportWithPrevious(
  artifact: { reportJson: Record<string, unknown>; html: string }, previous: PreviousRun | undefined,
): { markdown: string; html: string } {
  const report = { perImage: [], ...artifact.reportJson } as unknown as EvaluationReport;
  const meta = artifact.reportJson as unknown as ReportMeta;
  const html = artifact.html
    .replace(/<table class="metrics" id="metrics">[\s\S]*?<\/table>/, () => metricsTableHtml(report, previous))
    .replace(/<p class="note" id="previous">[\s\S]*?<\/p>/, () => previousNoteHtml(previous));
  return { markdown: reportMarkdown(report, meta, previous, true), html };
}
