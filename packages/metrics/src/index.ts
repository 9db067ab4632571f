/** @caption/metrics: caption metrics with coco-caption semantics: PTB tokenisation, BLEU-1..4, CIDEr-D, ROUGE-L. */
export { ptbTokenize, ptbTokens } from './ptb.ts';
export { corpusBleu, tokenizeForBleu, BLEU_MAX_ORDER, type BleuScores, type BleuByOrder } from './bleu.ts';
export { CiderD, corpusCider, CIDER_MAX_ORDER, CIDER_SIGMA, type CorpusMetric } from './cider.ts';
export { corpusRougeL, sentenceRougeL, lcsLength, ROUGE_BETA } from './rouge.ts';
export { checkMetricVectors, VECTOR_METRICS, type MetricDeviation, type VectorMetric } from './vectors.ts';
