/**
 * @caption/model: the caption decoders (one file each under decoders/), the registry that builds one from its
 * config, the checkpoint codec, the training loss, and greedy, sampling and beam decoding.
 */
export { DECODERS, ATTENTION_DECODERS, type DecoderName } from './names.ts';
export { createCaptionModel, DropoutSeeds, type CaptionModel, type CaptionModelConfig, type DecodeState, type ForwardOptions } from './registry.ts';
export { applyEncoderHead, encoderHeadOutput, type EncoderHeadConfig, type InvertedResidual } from './encoder-head.ts';
export { encodeCheckpoint, decodeCheckpoint, CHECKPOINT_FORMAT, type Checkpoint } from './checkpoint.ts';
export { maskedCrossEntropy } from './loss.ts';
export { greedyDecode, sampleDecode, type DecodedCaption, type FeatureSource } from './decode.ts';
export { beamDecode, type BeamOptions } from './beam.ts';
