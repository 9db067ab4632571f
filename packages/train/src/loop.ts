/**
 * The training loop: seeded image order per epoch (optionally length-bucketed), teacher forcing, masked loss
 * (+ the model's own penalty), Adam/RMSprop with global-norm clipping and a per-epoch LR schedule, on this
 * thread or data-parallel over `workers` threads; optional label smoothing and a moving average of the weights
 * (`ema`: then the average is what gets scored and kept); dev loss after every epoch, early stopping with
 * restore-best, and an `onEpoch` hook that checkpoints everything a resume needs.
 */
import { Rng, createProgress, deriveSeed, type FeatureStore } from '@caption/core';
import { tf, type TfBackend } from '@caption/core/tf';
import { bucketByLength, byLength, groupImages, makeBatches, packBatch, splitGroup, type ImageCaptions } from './batches.ts';
import { estimateLossParallel, parallelStep } from './data-parallel.ts';
import { DropoutSeeds, type CaptionModel, type CaptionModelConfig } from './models/index.ts';
import type { TrainParams } from './params.ts';
import { ReplicaPool } from './replicas.ts';
import { batchLoss, countTokens, trainStep } from './step.ts';
import { WeightAverage } from './weight-average.ts';

export { getBatchTensors } from './step.ts';

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

/** Where an interrupted run left off: its loop state and, with `ema`, its weight average (model.weights order). */
export interface Resumed {
  state: TrainState;
  average?: tf.Tensor[];
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

/**
 * Token-weighted mean loss over `images` (the dev loss), on this thread alone. The mean does not depend on how
 * images are batched, so they go in length order: batches of like lengths carry little padding.
 */
export function estimateLoss(model: CaptionModel, images: ImageCaptions[], data: TrainData, batchSize: number): number {
  let total = 0;
  let tokens = 0;
  for (const batch of makeBatches(byLength(images), batchSize)) {
    const n = countTokens(batch);
    total += batchLoss(model, batch, data.features.batch(batch.imageIds)) * n;
    tokens += n;
  }
  return total / Math.max(tokens, 1);
}

export interface TrainHooks {
  /**
   * After each epoch, with `improved` when its dev loss is the best so far (checkpoint here). With `ema`,
   * `average` holds the averaged weights: the ones that were scored, and that a resume needs back.
   */
  onEpoch?(state: TrainState, improved: boolean, average?: readonly tf.Tensor[]): Promise<void>;
  /** Weights of the best epoch (averaged, with `ema`) in model.weights order, when not in memory (after a resume). */
  loadBest?(): Promise<tf.Tensor[] | undefined>;
  log(msg: string): void;
}

export async function train(
  model: CaptionModel, optimizer: tf.Optimizer, data: TrainData, params: TrainParams, seed: number,
  hooks: TrainHooks, resumed?: Resumed, pool?: ReplicaPool,
): Promise<TrainState> {
  const replicas = params.workers > 1
    ? pool ?? (await ReplicaPool.start(params.workers - 1, {
      config: model.config as CaptionModelConfig, backend: tf.getBackend() as TfBackend, labelSmoothing: params.labelSmoothing,
    }))
    : undefined;
  const average = params.ema > 0 ? WeightAverage.start(model, params.ema, resumed?.average) : undefined;
  try {
    return await trainEpochs(model, optimizer, data, params, seed, hooks, resumed?.state ?? freshState(), replicas, average);
  } finally {
    average?.dispose();
    if (!pool) await replicas?.close();
  }
}

async function trainEpochs(
  model: CaptionModel, optimizer: tf.Optimizer, data: TrainData, params: TrainParams, seed: number,
  hooks: TrainHooks, state: TrainState, replicas: ReplicaPool | undefined, average: WeightAverage | undefined,
): Promise<TrainState> {
  const dropout = new DropoutSeeds(deriveSeed(seed, 'dropout'), state.dropoutCount);
  let best: tf.Tensor[] | undefined;
  const bestLoss = () => state.history.find((h) => h.epoch === state.bestEpoch)?.dev_loss ?? Infinity;
  while (state.epoch < params.epochs) {
    const epoch = state.epoch + 1;
    const lr = getLr(params, epoch);
    (optimizer as unknown as { learningRate: number }).learningRate = lr;
    const rng = new Rng(deriveSeed(seed, `epoch-${epoch}`));
    const order = rng.shuffle(data.train);
    const groups = params.bucketBatches > 0 ? bucketByLength(order, params.batchSize, params.bucketBatches, rng) : groupImages(order, params.batchSize);
    const progress = createProgress(`[train] epoch ${epoch}/${params.epochs}`, order.reduce((a, img) => a + img.captions.length, 0), 'captions');
    let sum = 0;
    for (const group of groups) {
      const loss = replicas
        ? await parallelStep(model, optimizer, splitGroup(group, params.workers).map(packBatch), data, params, dropout, replicas)
        : trainStep(model, optimizer, packBatch(group), data.features, params, dropout);
      state.step++;
      average?.update(model, state.step);
      sum += loss;
      progress.tick(group.reduce((a, img) => a + img.captions.length, 0), `loss ${loss.toFixed(3)}`);
    }
    progress.stop();
    const scoreDev = async () => !data.dev.length ? NaN
      : replicas ? await estimateLossParallel(model, data.dev, data, params.batchSize, replicas)
      : estimateLoss(model, data.dev, data, params.batchSize);
    const devLoss = average ? await average.applied(model, scoreDev) : await scoreDev();
    const entry: EpochLog = { epoch, step: state.step, loss: sum / groups.length, dev_loss: devLoss, lr };
    const improved = !(devLoss >= bestLoss()); // NaN (no dev set) counts as improved: keep the latest
    state = { ...state, epoch, history: [...state.history, entry], bestEpoch: improved ? epoch : state.bestEpoch, dropoutCount: dropout.count };
    hooks.log(`epoch ${epoch}/${params.epochs} loss ${entry.loss.toFixed(4)} dev ${devLoss.toFixed(4)} lr ${lr.toPrecision(3)}${improved ? ' (best)' : ''}`);
    if (improved) {
      best?.forEach((w) => w.dispose());
      best = (average?.tensors ?? Object.values(model.weights)).map((w) => w.clone());
    }
    await hooks.onEpoch?.(state, improved, average?.tensors);
    if (params.patience > 0 && epoch - state.bestEpoch >= params.patience) {
      hooks.log(`early stop: no dev improvement for ${params.patience} epochs`);
      break;
    }
  }
  // Restore the best dev epoch's (averaged) weights (from memory, or from its checkpoint after a resume).
  const restored = best ?? (await hooks.loadBest?.()) ?? [];
  if (restored.length) Object.values(model.weights).forEach((w, i) => w.assign(restored[i]));
  restored.forEach((t) => t.dispose());
  return state;
}
