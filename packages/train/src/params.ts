/** train params: the decoder and how to fit it. */
import type { ParamsOf } from '@caption/core';
import { DECODERS } from '@caption/model/names';

export const trainParamsSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    checkpoint: { type: 'string', minLength: 1 },                               // score this trained checkpoint instead of training one: a train artifact or its
                                                                                // checkpoint/ directory (repo-relative, ${VAR} expanded); no other train params then
    decoder: { enum: DECODERS, default: 'attention-gru' },                      // decoder architecture (one file each in @caption/model)
    epochs: { type: 'integer', minimum: 1, default: 10 },                       // max passes over the train captions
    batchSize: { type: 'integer', minimum: 1, default: 64 },                    // captions per step (whole images: all captions of an image go together)
    bucketBatches: { type: 'integer', minimum: 0, default: 0 },                 // length bucketing: sort images by caption length within pools of this many batches (0 = off)
    embedDim: { type: 'integer', minimum: 1, default: 256 },                    // E: encoder projection and word-embedding size
    units: { type: 'integer', minimum: 1, default: 512 },                       // U: recurrent / attention / feed-forward units
    heads: { type: 'integer', minimum: 1, default: 2 },                         // transformer: attention heads
    layers: { type: 'integer', minimum: 1, default: 3 },                        // init-gru: stacked GRUs
    dropout: { type: 'number', minimum: 0, maximum: 0.9, default: 0 },          // dropout rate in training (where the architecture has dropout)
    residualDropout: { type: 'number', minimum: 0, maximum: 0.9, default: 0 },  // transformer: dropout on the embedding sum and attention outputs before their residual adds
    encoderDropout: { type: 'number', minimum: 0, maximum: 0.9, default: 0 },   // transformer: dropout on the projected image features
    encoderHead: { type: 'string', minLength: 1 },                              // train the backbone's layers after the features' cut up to this layer with the decoder
                                                                                // (mobilenet_v2 features cut at block_<n>_project_BN/_add; e.g. block_14_expand_relu)
    encoderHeadLrScale: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 1 }, // the head's learning rate relative to the decoder's
    attentionReg: { type: 'number', minimum: 0, default: 0 },                   // attention-gru: doubly-stochastic attention regulariser λ (0 = off)
    optimizer: { enum: ['adam', 'rmsprop'], default: 'adam' },                  // update rule (TF.js tf.train.adam / tf.train.rmsprop)
    learningRate: { type: 'number', exclusiveMinimum: 0, default: 0.001 },      // peak step size
    lrSchedule: { enum: ['constant', 'cosine', 'step'], default: 'constant' },  // per epoch: cosine to 10% of peak, or × lrDecay each epoch
    lrDecay: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.8 }, // step schedule factor per epoch
    clipNorm: { type: 'number', minimum: 0, default: 5 },                       // global gradient-norm clip (0 = off)
    labelSmoothing: { type: 'number', minimum: 0, maximum: 0.5, default: 0 },   // ε of the training loss's smoothed targets (0 = plain cross-entropy; the dev loss is never smoothed)
    ema: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0 },       // decay of an exponential moving average of the weights, kept after every step (0 = off);
                                                                                // when on, the average is what the dev loss scores and what the checkpoint holds
    patience: { type: 'integer', minimum: 0, default: 0 },                      // early stopping: epochs without dev-loss improvement (0 = never stop early)
    scstEpochs: { type: 'integer', minimum: 0, default: 0 },                    // self-critical epochs after the cross-entropy ones: CIDEr-D reward, greedy dev CIDEr-D keeps the best (0 = off)
    scstSamples: { type: 'integer', minimum: 2, maximum: 32, default: 5 },      // captions sampled per image in a self-critical step (the baseline is the mean of the others)
    scstLearningRate: { type: 'number', exclusiveMinimum: 0, default: 0.00005 }, // constant step size of the self-critical epochs
    workers: { type: 'integer', minimum: 1, maximum: 16, default: 1 },          // data-parallel replicas per step (1 = this thread only; 2 uses a second core)
    resume: { enum: ['auto', 'never'], default: 'auto' },                       // auto: continue an interrupted run from its last epoch checkpoint
    backend: { enum: ['auto', 'tensorflow', 'wasm', 'cpu'], default: 'auto' },  // TF.js backend; auto = best available
  },
} as const;

export type TrainParams = ParamsOf<typeof trainParamsSchema>;
