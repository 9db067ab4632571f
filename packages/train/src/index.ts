export { runTrain, TRAIN_SCHEMA_VERSION } from './stage.ts';
export { trainParamsSchema, type TrainParams } from './params.ts';
export { createCaptionModel, DropoutSeeds, type CaptionModel, type CaptionModelConfig, type DecodeState } from './models/index.ts';
export { loadCheckpoint, encodeCheckpoint, type Checkpoint } from './checkpoint.ts';
export { makeBatches, packBatch, type Batch, type ImageCaptions } from './batches.ts';
export { maskedCrossEntropy } from './loss.ts';
export { train, estimateLoss, createOptimizer, getLr, freshState, type EpochLog, type TrainState } from './loop.ts';
export { modelConfig } from './model-config.ts';
export { lossCurveSvg } from './loss-curve.ts';
