export { runEvaluate, decodingLabel, EVALUATE_SCHEMA_VERSION } from './stage.ts';
export { evaluateParamsSchema, type EvaluateParams } from './params.ts';
export {
  evaluateCaptions, bestConstantCaption, metricValues, METRICS, METRIC_LABELS, type EvaluationReport, type MetricName, type SystemScores,
} from './transform.ts';
export { reportHtml, type HtmlReportInput } from './report-html.ts';
export { reportMarkdown, type ReportMeta } from './report.ts';
export { reportMetrics, reportWithPrevious, type PreviousRun } from './previous-run.ts';
export { attentionOverlay, attentionPanels, attentionGrid, type OverlayOptions } from './attention-overlay.ts';
