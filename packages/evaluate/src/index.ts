export { runEvaluate, decodingLabel, EVALUATE_SCHEMA_VERSION } from './stage.ts';
export { evaluateParamsSchema, type EvaluateParams } from './params.ts';
export { corpusBleu, tokenizeForBleu, type BleuScores, type BleuByOrder } from './bleu.ts';
export {
  evaluateCaptions, bestConstantCaption, metricValues, METRICS, METRIC_LABELS, type EvaluationReport, type MetricName, type SystemScores,
} from './transform.ts';
export { ptbTokenize, ptbTokens } from './ptb.ts';
export { reportHtml, type HtmlReportInput } from './report-html.ts';
export { reportMarkdown, type ReportMeta } from './report.ts';
export { reportMetrics, reportWithPrevious, type PreviousRun } from './previous-run.ts';
export { greedyDecode, type DecodedCaption, type FeatureSource } from '@caption/train';
export { beamDecode, type BeamOptions } from './beam.ts';
export { corpusCider, type CorpusMetric } from './cider.ts';
export { corpusRougeL, sentenceRougeL, lcsLength } from './rouge.ts';
export { checkMetricVectors, VECTOR_METRICS, type MetricDeviation, type VectorMetric } from './metrics-vectors.ts';
export { attentionOverlay, attentionPanels, attentionGrid, type OverlayOptions } from './attention-overlay.ts';
