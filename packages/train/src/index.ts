export { runTrain, TRAIN_SCHEMA_VERSION } from './stage.ts';
export { trainParamsSchema, type TrainParams } from './params.ts';
export { createCaptionModel, type CaptionModel, type CaptionModelConfig, type DecodeState } from './models/index.ts';
export { loadCheckpoint, encodeCheckpoint, type Checkpoint } from './checkpoint.ts';
export { makeBatches, packBatch, type Batch, type ImageCaptions } from './batches.ts';
export { maskedCrossEntropy } from './loss.ts';
export { train, estimateLoss, type EpochLog } from './loop.ts';
