export { runEvaluate, EVALUATE_SCHEMA_VERSION } from './stage.ts';
export { evaluateParamsSchema, type EvaluateParams } from './params.ts';
export { corpusBleu, tokenizeForBleu, type BleuScores, type BleuByOrder } from './bleu.ts';
export { evaluateCaptions, bestConstantCaption, type BleuReport } from './transform.ts';
export { greedyDecode } from './decode.ts';
