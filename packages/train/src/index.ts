export { runTrain, TRAIN_SCHEMA_VERSION } from './stage.ts';
export { trainParamsSchema, type TrainParams } from './params.ts';
export { makeBatches, packBatch, type Batch, type ImageCaptions } from './batches.ts';
export { train, estimateLoss, createOptimizer, getLr, freshState, type EpochLog, type TrainState } from './loop.ts';
export { ReplicaPool } from './replicas.ts';
export { modelConfig } from './model-config.ts';
export { lossCurveSvg } from './loss-curve.ts';
