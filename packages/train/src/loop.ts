/**
 * The training loop: seeded image order per epoch, teacher forcing, masked loss (+ the model's own penalty),
 * Adam/RMSprop with global-norm clipping and a per-epoch LR schedule; dev loss after every epoch, early
 * stopping with restore-best, and an `onEpoch` hook that checkpoints everything a resume needs.
 */
import { Rng, createProgress, deriveSeed, type FeatureStore } from '@caption/core';
import { tf } from '@caption/core/tf';
import { makeBatches, type Batch, type ImageCaptions } from './batches.ts';
import { maskedCrossEntropy } from './loss.ts';
import { DropoutSeeds, type CaptionModel } from './models/index.ts';
import type { TrainParams } from './params.ts';

export interface EpochLog {
  epoch: number;
  step: number;        // optimizer steps so far
  loss: number;        // mean train loss over the epoch
  dev_loss: number;
  lr: number;
}

export interface TrainData {
  train: ImageCaptions[];
  dev: ImageCaptions[];
  features: FeatureStore;
}

/** Everything besides weights and optimizer slots that a resumed run needs to continue identically. */
export interface TrainState {
  epoch: number;             // epochs completed
  step: number;
  history: EpochLog[];
  bestEpoch: number;         // 0 = none yet
  dropoutCount: number;      // DropoutSeeds counter
}

export const freshState = (): TrainState => ({ epoch: 0, step: 0, history: [], bestEpoch: 0, dropoutCount: 0 });

export function getBatchTensors(batch: Batch, features: FeatureStore) {
  const [L, D] = features.shape;
  return {
    feats: tf.tensor3d(features.batch(batch.imageIds), [batch.imageIds.length, L, D]),
    imageIndex: tf.tensor1d(batch.imageIndex, 'int32'),
    inputs: tf.tensor2d(batch.inputs, [batch.B, batch.T], 'int32'),
    targets: tf.tensor2d(batch.targets, [batch.B, batch.T], 'int32'),
  };
}

export function createOptimizer(params: Pick<TrainParams, 'optimizer' | 'learningRate'>): tf.Optimizer {
  return params.optimizer === 'rmsprop' ? tf.train.rmsprop(params.learningRate) : tf.train.adam(params.learningRate);
}

export function getLr(params: Pick<TrainParams, 'learningRate' | 'lrSchedule' | 'lrDecay' | 'epochs'>, epoch: number): number {
  const { learningRate: lr, epochs } = params;
  if (params.lrSchedule === 'step') return lr * params.lrDecay ** (epoch - 1);
  if (params.lrSchedule === 'cosine') return lr * (0.1 + 0.45 * (1 + Math.cos((Math.PI * (epoch - 1)) / Math.max(epochs - 1, 1))));
  return lr;
}

function trainStep(model: CaptionModel, optimizer: tf.Optimizer, batch: Batch, data: TrainData, clipNorm: number, dropout: DropoutSeeds): number {
  return tf.tidy(() => {
    const t = getBatchTensors(batch, data.features);
    const { value, grads } = tf.variableGrads(() => {
      const aux: { penalty?: tf.Scalar } = {};
      const loss = maskedCrossEntropy(model.forward(t.feats, t.imageIndex, t.inputs, { dropout, aux }), t.targets);
      return aux.penalty ? tf.add(loss, aux.penalty) : loss;
    }, Object.values(model.weights));
    let g = grads;
    if (clipNorm > 0) {
      const norm = tf.sqrt(tf.addN(Object.values(grads).map((x) => tf.sum(tf.square(x)))));
      const scale = tf.minimum(1, tf.div(clipNorm, tf.maximum(norm, 1e-6)));
      g = Object.fromEntries(Object.entries(grads).map(([k, x]) => [k, tf.mul(x, scale)]));
    }
    optimizer.applyGradients(g as tf.NamedTensorMap);
    return value.dataSync()[0];
  });
}

export function estimateLoss(model: CaptionModel, images: ImageCaptions[], data: TrainData, batchSize: number): number {
  let total = 0;
  let tokens = 0;
  for (const batch of makeBatches(images, batchSize)) {
    const n = batch.targets.reduce((a, id) => a + (id !== 0 ? 1 : 0), 0);
    total += tf.tidy(() => {
      const t = getBatchTensors(batch, data.features);
      return maskedCrossEntropy(model.forward(t.feats, t.imageIndex, t.inputs), t.targets).dataSync()[0];
    }) * n;
    tokens += n;
  }
  return total / Math.max(tokens, 1);
}

export interface TrainHooks {
  /** After each epoch, with `improved` when its dev loss is the best so far (checkpoint here). */
  onEpoch?(state: TrainState, improved: boolean): Promise<void>;
  /** Weights of the best epoch in model.weights order, when not in memory (after a resume). */
  loadBest?(): Promise<tf.Tensor[] | undefined>;
  log(msg: string): void;
}

export async function train(
  model: CaptionModel, optimizer: tf.Optimizer, data: TrainData, params: TrainParams, seed: number,
  hooks: TrainHooks, state: TrainState = freshState(),
): Promise<TrainState> {
  const dropout = new DropoutSeeds(deriveSeed(seed, 'dropout'), state.dropoutCount);
  let best: tf.Tensor[] | undefined;
  const bestLoss = () => state.history.find((h) => h.epoch === state.bestEpoch)?.dev_loss ?? Infinity;
  while (state.epoch < params.epochs) {
    const epoch = state.epoch + 1;
    const lr = getLr(params, epoch);
    (optimizer as unknown as { learningRate: number }).learningRate = lr;
    const order = new Rng(deriveSeed(seed, `epoch-${epoch}`)).shuffle(data.train);
    const batches = makeBatches(order, params.batchSize);
    const progress = createProgress(`[train] epoch ${epoch}/${params.epochs}`, batches.reduce((a, b) => a + b.B, 0), 'captions');
    let sum = 0;
    for (const batch of batches) {
      const loss = trainStep(model, optimizer, batch, data, params.clipNorm, dropout);
      sum += loss;
      state.step++;
      progress.tick(batch.B, `loss ${loss.toFixed(3)}`);
    }
    progress.stop();
    const devLoss = data.dev.length ? estimateLoss(model, data.dev, data, params.batchSize) : NaN;
    const entry: EpochLog = { epoch, step: state.step, loss: sum / batches.length, dev_loss: devLoss, lr };
    const improved = !(devLoss >= bestLoss()); // NaN (no dev set) counts as improved: keep the latest
    state = { ...state, epoch, history: [...state.history, entry], bestEpoch: improved ? epoch : state.bestEpoch, dropoutCount: dropout.count };
    hooks.log(`epoch ${epoch}/${params.epochs} loss ${entry.loss.toFixed(4)} dev ${devLoss.toFixed(4)} lr ${lr.toPrecision(3)}${improved ? ' (best)' : ''}`);
    if (improved) {
      best?.forEach((w) => w.dispose());
      best = Object.values(model.weights).map((w) => w.clone());
    }
    await hooks.onEpoch?.(state, improved);
    if (params.patience > 0 && epoch - state.bestEpoch >= params.patience) {
      hooks.log(`early stop: no dev improvement for ${params.patience} epochs`);
      break;
    }
  }
  // Restore the best dev epoch's weights (from memory, or from its checkpoint after a resume).
  const restored = best ?? (await hooks.loadBest?.()) ?? [];
  if (restored.length) Object.values(model.weights).forEach((w, i) => w.assign(restored[i]));
  restored.forEach((t) => t.dispose());
  return state;
}
