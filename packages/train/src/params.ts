/** train params: the decoder and how to fit it. */
import { DECODERS } from '@caption/model/names';

export interface TrainParams {
  decoder: (typeof DECODERS)[number]; // decoder architecture (one file each under src/models)
  epochs: number;            // max passes over the train captions
  batchSize: number;         // captions per step (whole images: all captions of an image go together)
  bucketBatches: number;     // length bucketing: sort images by caption length within pools of this many batches (0 = off)
  embedDim: number;          // E: encoder projection and word-embedding size
  units: number;             // U: recurrent / attention / feed-forward units
  heads: number;             // transformer: attention heads
  layers: number;            // init-gru: stacked GRUs
  dropout: number;           // dropout rate in training (where the architecture has dropout)
  residualDropout: number;   // transformer: dropout on the embedding sum and attention outputs before their residual adds
  encoderDropout: number;    // transformer: dropout on the projected image features
  attentionReg: number;      // attention-gru: doubly-stochastic attention regulariser λ (0 = off)
  optimizer: 'adam' | 'rmsprop';
  learningRate: number;      // peak step size
  lrSchedule: 'constant' | 'cosine' | 'step'; // per epoch: cosine to 10% of peak, or × lrDecay each epoch
  lrDecay: number;           // step schedule factor per epoch
  clipNorm: number;          // global gradient-norm clip (0 = off)
  labelSmoothing: number;    // ε of the training loss's smoothed targets (0 = plain cross-entropy; the dev loss is never smoothed)
  ema: number;               // decay of an exponential moving average of the weights, kept after every step (0 = off);
                             // when on, the average is what the dev loss scores and what the checkpoint holds
  patience: number;          // early stopping: epochs without dev-loss improvement (0 = never stop early)
  scstEpochs: number;        // self-critical epochs after the cross-entropy ones: CIDEr-D reward, greedy dev CIDEr-D keeps the best (0 = off)
  scstSamples: number;       // captions sampled per image in a self-critical step (the baseline is the mean of the others)
  scstLearningRate: number;  // constant step size of the self-critical epochs
  workers: number;           // data-parallel replicas per step (1 = this thread only; 2 uses a second core)
  resume: 'auto' | 'never';  // auto: continue an interrupted run from its last epoch checkpoint
  backend: 'auto' | 'tensorflow' | 'wasm' | 'cpu'; // TF.js backend; auto = best available
}

export const trainParamsSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    decoder: { enum: DECODERS, default: 'attention-gru' },
    epochs: { type: 'integer', minimum: 1, default: 10 },
    batchSize: { type: 'integer', minimum: 1, default: 64 },
    bucketBatches: { type: 'integer', minimum: 0, default: 0 },
    embedDim: { type: 'integer', minimum: 1, default: 256 },
    units: { type: 'integer', minimum: 1, default: 512 },
    heads: { type: 'integer', minimum: 1, default: 2 },
    layers: { type: 'integer', minimum: 1, default: 3 },
    dropout: { type: 'number', minimum: 0, maximum: 0.9, default: 0 },
    residualDropout: { type: 'number', minimum: 0, maximum: 0.9, default: 0 },
    encoderDropout: { type: 'number', minimum: 0, maximum: 0.9, default: 0 },
    attentionReg: { type: 'number', minimum: 0, default: 0 },
    optimizer: { enum: ['adam', 'rmsprop'], default: 'adam' },
    learningRate: { type: 'number', exclusiveMinimum: 0, default: 0.001 },
    lrSchedule: { enum: ['constant', 'cosine', 'step'], default: 'constant' },
    lrDecay: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.8 },
    clipNorm: { type: 'number', minimum: 0, default: 5 },
    labelSmoothing: { type: 'number', minimum: 0, maximum: 0.5, default: 0 },
    ema: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0 },
    patience: { type: 'integer', minimum: 0, default: 0 },
    scstEpochs: { type: 'integer', minimum: 0, default: 0 },
    scstSamples: { type: 'integer', minimum: 2, maximum: 32, default: 5 },
    scstLearningRate: { type: 'number', exclusiveMinimum: 0, default: 0.00005 },
    workers: { type: 'integer', minimum: 1, maximum: 16, default: 1 },
    resume: { enum: ['auto', 'never'], default: 'auto' },
    backend: { enum: ['auto', 'tensorflow', 'wasm', 'cpu'], default: 'auto' },
  },
} as const;
