/** Train params -> the chosen decoder's model config (each architecture takes the sizes it has). */
import { PipelineError } from '@caption/core';
import type { TrainParams } from './params.ts';
import { type CaptionModelConfig } from '@caption/model';

export function modelConfig(params: TrainParams, featureShape: [number, number], vocabSize: number, maxLength: number): CaptionModelConfig {
  const common = { featureShape, vocabSize };
  const { embedDim: E, units: U, dropout } = params;
  switch (params.decoder) {
    case 'attention-gru':
      return { ...common, decoder: 'attention-gru', embedDim: E, units: U, dropout, attentionReg: params.attentionReg };
    case 'transformer':
      // The position table must also cover evaluate's decoding length: at least 64 rows.
      return {
        ...common, decoder: 'transformer', embedDim: E, units: U, dropout, heads: params.heads, maxLength: Math.max(maxLength, 64),
        ...(params.residualDropout > 0 ? { residualDropout: params.residualDropout } : {}),
        ...(params.encoderDropout > 0 ? { encoderDropout: params.encoderDropout } : {}),
      };
    case 'init-gru':
      return { ...common, decoder: 'init-gru', embedDim: E, units: U, dropout, layers: params.layers };
    case 'merge-lstm':
      return { ...common, decoder: 'merge-lstm', embedDim: E, units: U, dropout };
    default:
      throw new PipelineError('config', `unknown train.decoder '${params.decoder}'`);
  }
}
