/** Decoder registry: config.decoder -> model factory. */
import { PipelineError } from '@caption/core';
import { createAttentionGru, type AttentionGruConfig } from './attention-gru.ts';
import type { CaptionModel } from './model.ts';

export type CaptionModelConfig = AttentionGruConfig;
export type { CaptionModel, DecodeState } from './model.ts';

export function createCaptionModel(config: CaptionModelConfig, seed: number): CaptionModel {
  switch (config.decoder) {
    case 'attention-gru': return createAttentionGru(config, seed);
    default: throw new PipelineError('config', `unknown decoder '${(config as { decoder: string }).decoder}'`);
  }
}
