export { runEvaluate, EVALUATE_SCHEMA_VERSION } from './stage.ts';
export { evaluateParamsSchema, type EvaluateParams } from './params.ts';
export { corpusBleu, tokenizeForBleu, type BleuScores, type BleuByOrder } from './bleu.ts';
export { evaluateCaptions, bestConstantCaption, type BleuReport } from './transform.ts';
export { greedyDecode } from './decode.ts';
export { beamDecode, type BeamOptions } from './beam.ts';
export { corpusCider, type CorpusMetric } from './cider.ts';
export { corpusRougeL, sentenceRougeL, lcsLength } from './rouge.ts';
export { checkMetricVectors, VECTOR_METRICS, type MetricDeviation, type VectorMetric } from './metrics-vectors.ts';
