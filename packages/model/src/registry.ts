/** Decoder registry: config.decoder -> model factory (the names: names.ts), behind an encoder head when the config has one. */
import { PipelineError } from '@caption/core';
import { createAttentionGru, type AttentionGruConfig } from './decoders/attention-gru.ts';
import { createInitGru, type InitGruConfig } from './decoders/init-gru.ts';
import { createMergeLstm, type MergeLstmConfig } from './decoders/merge-lstm.ts';
import { createTransformer, type TransformerConfig } from './decoders/transformer.ts';
import { encoderHeadOutput, encoderHeadSpec, withEncoderHead, type EncoderHeadConfig } from './encoder-head.ts';
import { initWeights, type CaptionModel } from './model.ts';

/** A decoder's config; `featureShape` is the stored features', `encoderHead` the layers trained between them and the decoder. */
export type CaptionModelConfig = (AttentionGruConfig | TransformerConfig | InitGruConfig | MergeLstmConfig) & { encoderHead?: EncoderHeadConfig };
export { DropoutSeeds, type CaptionModel, type DecodeState, type ForwardOptions } from './model.ts';

export function createCaptionModel(config: CaptionModelConfig, seed: number): CaptionModel {
  if (!config.encoderHead) return createDecoder(config, seed);
  const { encoderHead, ...decoder } = config;
  const head = initWeights(seed, encoderHeadSpec(encoderHead));
  const inner = createDecoder({ ...decoder, featureShape: encoderHeadOutput(encoderHead) }, seed);
  return withEncoderHead(inner, encoderHead, head, config);
}

function createDecoder(config: CaptionModelConfig, seed: number): CaptionModel {
  switch (config.decoder) {
    case 'attention-gru': return createAttentionGru(config, seed);
    case 'transformer': return createTransformer(config, seed);
    case 'init-gru': return createInitGru(config, seed);
    case 'merge-lstm': return createMergeLstm(config, seed);
    default: throw new PipelineError('config', `unknown decoder '${(config as { decoder: string }).decoder}'`);
  }
}
