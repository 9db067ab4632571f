/** Decoder registry: config.decoder -> model factory (the names: names.ts). */
import { PipelineError } from '@caption/core';
import { createAttentionGru, type AttentionGruConfig } from './decoders/attention-gru.ts';
import { createInitGru, type InitGruConfig } from './decoders/init-gru.ts';
import { createMergeLstm, type MergeLstmConfig } from './decoders/merge-lstm.ts';
import { createTransformer, type TransformerConfig } from './decoders/transformer.ts';
import type { CaptionModel } from './model.ts';

export type CaptionModelConfig = AttentionGruConfig | TransformerConfig | InitGruConfig | MergeLstmConfig;
export { DropoutSeeds, type CaptionModel, type DecodeState, type ForwardOptions } from './model.ts';

export function createCaptionModel(config: CaptionModelConfig, seed: number): CaptionModel {
  switch (config.decoder) {
    case 'attention-gru': return createAttentionGru(config, seed);
    case 'transformer': return createTransformer(config, seed);
    case 'init-gru': return createInitGru(config, seed);
    case 'merge-lstm': return createMergeLstm(config, seed);
    default: throw new PipelineError('config', `unknown decoder '${(config as { decoder: string }).decoder}'`);
  }
}
