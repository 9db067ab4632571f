/**
 * The training loop: seeded image order per epoch (optionally length-bucketed), teacher forcing, masked loss
 * (+ the model's own penalty), Adam/RMSprop with global-norm clipping and a per-epoch LR schedule, on this
 * thread or data-parallel over `workers` threads; optional label smoothing and a moving average of the weights
 * (`ema`: then the average is what gets scored and kept); dev loss after every epoch, early stopping with
 * restore-best, and an `onEpoch` hook that checkpoints everything a resume needs. Then, optionally, self-critical
 * epochs (scst.ts) from the best cross-entropy weights, kept when greedy dev CIDEr-D improves.
 */
import { Rng, createProgress, deriveSeed, failpoint, type FeatureStore } from '@caption/core';
import { tf, type TfBackend } from '@caption/core/tf';
import { bucketByLength, byLength, groupImages, makeBatches, packBatch, splitGroup, type ImageCaptions } from './batches.ts';
import { estimateLossParallel, parallelStep } from './data-parallel.ts';
import type { TrainParams } from './params.ts';
import { ReplicaPool } from './replicas.ts';
import { greedyCider, referenceTokens, sampleGroup } from './scst.ts';
import { batchLoss, countTokens, trainStep } from './step.ts';
import { WeightAverage } from './weight-average.ts';
import { CiderD } from '@caption/metrics';
import { DropoutSeeds, type CaptionModel, type CaptionModelConfig } from '@caption/model';

export { getBatchTensors } from './step.ts';

export interface EpochLog {
  epoch: number;
  step: number;        // optimizer steps so far
  loss: number;        // mean train loss over the epoch
  dev_loss: number;
  lr: number;
  reward?: number;     // self-critical epochs: mean CIDEr-D of the sampled captions
  dev_cider?: number;  // self-critical epochs: greedy CIDEr-D on the dev images (what keeps the best)
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
  /** set once the cross-entropy epochs are over and self-critical ones begin: the first of them, and the greedy
   *  dev CIDEr-D of the cross-entropy weights they start from (the score to beat) */
  selfCritical?: { start: number; devCider: number };
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
  const keepBest = (weights: readonly tf.Tensor[]) => {
    best?.forEach((w) => w.dispose());
    best = weights.map((w) => w.clone());
  };
  // The best epoch's (averaged) weights into the model, from memory or (after a resume) from its checkpoint.
  const restoreBest = async () => {
    best ??= await hooks.loadBest?.();
    if (best?.length) Object.values(model.weights).forEach((w, i) => w.assign(best![i]));
  };
  const bestLoss = () => state.history.find((h) => h.epoch === state.bestEpoch)?.dev_loss ?? Infinity;
  const outOfPatience = () => params.patience > 0 && state.epoch - state.bestEpoch >= params.patience;
  const scoreDev = async () => !data.dev.length ? NaN
    : replicas ? await estimateLossParallel(model, data.dev, data, params.batchSize, replicas)
    : estimateLoss(model, data.dev, data, params.batchSize);
  while (!state.selfCritical && state.epoch < params.epochs && !outOfPatience()) {
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
      failpoint(`train:step-${state.step}`);
      average?.update(model, state.step);
      sum += loss;
      progress.tick(group.reduce((a, img) => a + img.captions.length, 0), `loss ${loss.toFixed(3)}`);
    }
    progress.stop();
    const devLoss = average ? await average.applied(model, scoreDev) : await scoreDev();
    const entry: EpochLog = { epoch, step: state.step, loss: sum / groups.length, dev_loss: devLoss, lr };
    const improved = !(devLoss >= bestLoss()); // NaN (no dev set) counts as improved: keep the latest
    state = { ...state, epoch, history: [...state.history, entry], bestEpoch: improved ? epoch : state.bestEpoch, dropoutCount: dropout.count };
    hooks.log(`epoch ${epoch}/${params.epochs} loss ${entry.loss.toFixed(4)} dev ${devLoss.toFixed(4)} lr ${lr.toPrecision(3)}${improved ? ' (best)' : ''}`);
    if (improved) keepBest(average?.tensors ?? Object.values(model.weights));
    await hooks.onEpoch?.(state, improved, average?.tensors);
    if (outOfPatience()) hooks.log(`early stop: no dev improvement for ${params.patience} epochs`);
  }
  try {
    // the weights the run ends with, or that self-critical epochs start from (a run resumed among those goes on
    // from its latest epoch's weights instead)
    if (!state.selfCritical) await restoreBest();
    if (params.scstEpochs > 0) {
      state = await selfCriticalEpochs(model, optimizer, data, params, seed, hooks, state, replicas, dropout, scoreDev, keepBest);
      await restoreBest();
    }
  } finally {
    best?.forEach((w) => w.dispose());
  }
  return state;
}

/**
 * `scstEpochs` self-critical epochs (scst.ts) from the restored best cross-entropy weights, at a constant
 * `scstLearningRate`; an epoch is the best when its greedy dev CIDEr-D beats every earlier one's (and the
 * cross-entropy weights'). The moving average is not kept here: the sampled policy is the model itself.
 */
async function selfCriticalEpochs(
  model: CaptionModel, optimizer: tf.Optimizer, data: TrainData, params: TrainParams, seed: number, hooks: TrainHooks,
  state: TrainState, replicas: ReplicaPool | undefined, dropout: DropoutSeeds, scoreDev: () => Promise<number>,
  keepBest: (weights: readonly tf.Tensor[]) => void,
): Promise<TrainState> {
  // decode as long as the longest train caption: at most its words + <end>
  const maxLength = Math.max(...data.train.flatMap((img) => img.captions.map((c) => c.length))) - 1;
  const devCider = () => (data.dev.length ? greedyCider(model, data.features, data.dev, maxLength, params.batchSize) : NaN);
  if (!state.selfCritical) {
    state = { ...state, selfCritical: { start: state.epoch + 1, devCider: devCider() } };
    hooks.log(`self-critical training from epoch ${state.bestEpoch}'s weights: dev CIDEr-D ${state.selfCritical!.devCider.toFixed(4)}`);
  }
  const last = state.selfCritical!.start + params.scstEpochs - 1;
  const references = referenceTokens(data.train);
  const scorer = new CiderD(references.values()); // document frequencies over the train references
  (optimizer as unknown as { learningRate: number }).learningRate = params.scstLearningRate;
  while (state.epoch < last) {
    const epoch = state.epoch + 1;
    const rng = new Rng(deriveSeed(seed, `scst-epoch-${epoch}`));
    const groups = groupImages(rng.shuffle(data.train), params.batchSize);
    const progress = createProgress(`[train] self-critical epoch ${epoch}/${last}`, data.train.length, 'images');
    let loss = 0;
    let reward = 0;
    for (const group of groups) {
      const sampled = sampleGroup(model, data.features, group, references, scorer, { samples: params.scstSamples, maxLength }, rng);
      loss += replicas
        ? await parallelStep(model, optimizer, splitGroup(sampled.images, params.workers).map(packBatch), data, params, dropout, replicas)
        : trainStep(model, optimizer, packBatch(sampled.images), data.features, params, dropout);
      state.step++;
      failpoint(`train:step-${state.step}`);
      reward += sampled.meanReward * group.length;
      progress.tick(group.length, `reward ${sampled.meanReward.toFixed(3)}`);
    }
    progress.stop();
    const entry: EpochLog = {
      epoch, step: state.step, loss: loss / groups.length, dev_loss: await scoreDev(), lr: params.scstLearningRate,
      reward: reward / data.train.length, dev_cider: devCider(),
    };
    const bestCider = Math.max(state.selfCritical!.devCider, ...state.history.filter((h) => h.dev_cider !== undefined).map((h) => h.dev_cider!));
    const improved = !(entry.dev_cider! <= bestCider); // NaN (no dev set) counts as improved: keep the latest
    state = { ...state, epoch, history: [...state.history, entry], bestEpoch: improved ? epoch : state.bestEpoch, dropoutCount: dropout.count };
    hooks.log(`self-critical epoch ${epoch}/${last} reward ${entry.reward!.toFixed(4)} dev CIDEr-D ${entry.dev_cider!.toFixed(4)} ` +
      `dev loss ${entry.dev_loss.toFixed(4)}${improved ? ' (best)' : ''}`);
    if (improved) keepBest(Object.values(model.weights));
    await hooks.onEpoch?.(state, improved);
  }
  return state;
}
