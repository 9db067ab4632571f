/** train params: the decoder and how to fit it. */
export interface TrainParams {
  decoder: 'attention-gru';  // decoder architecture (one file each under src/models)
  epochs: number;            // passes over the train captions
  batchSize: number;         // captions per step (whole images: all captions of an image go together)
  embedDim: number;          // E: encoder projection and word-embedding size
  units: number;             // U: recurrent / attention units
  learningRate: number;      // Adam step size
  clipNorm: number;          // global gradient-norm clip (0 = off)
  backend: 'auto' | 'tensorflow' | 'wasm' | 'cpu'; // TF.js backend; auto = best available
}

export const trainParamsSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    decoder: { enum: ['attention-gru'], default: 'attention-gru' },
    epochs: { type: 'integer', minimum: 1, default: 10 },
    batchSize: { type: 'integer', minimum: 1, default: 64 },
    embedDim: { type: 'integer', minimum: 1, default: 256 },
    units: { type: 'integer', minimum: 1, default: 512 },
    learningRate: { type: 'number', exclusiveMinimum: 0, default: 0.001 },
    clipNorm: { type: 'number', minimum: 0, default: 5 },
    backend: { enum: ['auto', 'tensorflow', 'wasm', 'cpu'], default: 'auto' },
  },
} as const;
