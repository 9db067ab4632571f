/**
 * The one list of decoder names (no TensorFlow.js behind it, so the pipeline schema can import it cheaply),
 * and which of them attend over the feature positions (their `next()` returns attention weights).
 */
export const DECODERS = ['attention-gru', 'transformer', 'init-gru', 'merge-lstm'] as const;
export type DecoderName = (typeof DECODERS)[number];
export const ATTENTION_DECODERS: readonly DecoderName[] = ['attention-gru', 'transformer'];
