/**
 * The training loop: seeded image order per epoch, teacher forcing, masked loss (+ the model's own penalty),
 * Adam/RMSprop with global-norm clipping and a per-epoch LR schedule; dev loss after every epoch, early
 * stopping with restore-best, and an `onEpoch` hook that checkpoints everything a resume needs.
 */
import { Rng, createProgress, deriveSeed, type FeatureStore } from '@caption/core';
import { tf, type TfBackend } from '@caption/core/tf';
import { bucketByLength, byLength, groupImages, makeBatches, packBatch, splitGroup, type Batch, type ImageCaptions } from './batches.ts';
import { maskedCrossEntropy } from './loss.ts';
import { DropoutSeeds, type CaptionModel } from './models/index.ts';
import type { TrainParams } from './params.ts';
import { ReplicaPool } from './replicas.ts';
import type { CaptionModelConfig } from './models/index.ts';

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
  return batchTensors(batch, features.batch(batch.imageIds), features.shape);
}

function batchTensors(batch: Batch, feats: Float32Array, [L, D]: readonly [number, number]) {
  return {
    feats: tf.tensor3d(feats, [batch.imageIds.length, L, D]),
    imageIndex: tf.tensor1d(batch.imageIndex, 'int32'),
    inputs: tf.tensor2d(batch.inputs, [batch.B, batch.T], 'int32'),
    targets: tf.tensor2d(batch.targets, [batch.B, batch.T], 'int32'),
  };
}

/** Target tokens that count in the loss (not <pad>): a batch part's weight when gradients are averaged. */
export const countTokens = (batch: Batch) => batch.targets.reduce((a, id) => a + (id !== 0 ? 1 : 0), 0);

/** Masked loss (+ the model's penalty) of one batch and its gradients in model.weights order; call in tf.tidy. */
export function batchGradients(model: CaptionModel, batch: Batch, feats: Float32Array, dropout?: DropoutSeeds) {
  const t = batchTensors(batch, feats, model.config.featureShape);
  const vars = Object.values(model.weights);
  const { value, grads } = tf.variableGrads(() => {
    const aux: { penalty?: tf.Scalar } = {};
    const loss = maskedCrossEntropy(model.forward(t.feats, t.imageIndex, t.inputs, { dropout, aux }), t.targets);
    return aux.penalty ? tf.add(loss, aux.penalty) : loss;
  }, vars);
  return { loss: value, grads: vars.map((v) => grads[v.name]) };
}

/** All weights as one array (model.weights order): what a replica is sent every step. */
export function flattenWeights(model: CaptionModel): Float32Array {
  return concat(Object.values(model.weights).map((w) => w.dataSync() as Float32Array));
}

export function assignWeights(model: CaptionModel, flat: Float32Array) {
  unflatten(model, flat).forEach((t, i) => {
    Object.values(model.weights)[i].assign(t);
    t.dispose();
  });
}

export function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}

/** A flat array in model.weights order -> one tensor per weight. */
export function unflatten(model: CaptionModel, flat: Float32Array): tf.Tensor[] {
  let at = 0;
  return Object.values(model.weights).map((w) => {
    const t = tf.tensor(flat.subarray(at, at + w.size), w.shape, 'float32');
    at += w.size;
    return t;
  });
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
    const { loss, grads } = batchGradients(model, batch, data.features.batch(batch.imageIds), dropout);
    applyGradients(model, optimizer, grads, clipNorm);
    return loss.dataSync()[0];
  });
}

/**
 * One step over `parts` of a batch: replicas take parts 1.., this thread part 0 meanwhile; gradients are
 * averaged weighted by target tokens, so the step follows the whole batch's masked mean loss.
 */
async function parallelStep(
  model: CaptionModel, optimizer: tf.Optimizer, parts: Batch[], data: TrainData, clipNorm: number,
  dropout: DropoutSeeds, replicas: ReplicaPool,
): Promise<number> {
  const weights = flattenWeights(model);
  const remote = replicas.gradients(parts.slice(1).map((batch, i) => ({
    weights: i === 0 ? weights : weights.slice(), batch, features: data.features.batch(batch.imageIds),
    dropoutSeed: deriveSeed(dropout.seed, `replica-${i + 1}`), dropoutCount: dropout.count,
  })));
  const local = tf.tidy(() => batchGradients(model, parts[0], data.features.batch(parts[0].imageIds), dropout));
  const results = await remote.catch((err) => {
    tf.dispose([local.loss, ...local.grads]);
    throw err;
  });
  return tf.tidy(() => {
    const tokens = [countTokens(parts[0]), ...results.map((r) => r.tokens)];
    const total = tokens.reduce((a, b) => a + b, 0);
    const share = tokens.map((n) => n / Math.max(total, 1));
    const perPart = [local.grads, ...results.map((r) => unflatten(model, r.grads))];
    const grads = local.grads.map((_, k) => tf.addN(perPart.map((g, p) => tf.mul(g[k], share[p]))));
    applyGradients(model, optimizer, grads, clipNorm);
    const loss = share[0] * local.loss.dataSync()[0] + results.reduce((a, r, p) => a + share[p + 1] * r.loss, 0);
    tf.dispose([local.loss, ...local.grads]);
    return loss;
  });
}

/** Clip by global norm, then one optimizer update. */
function applyGradients(model: CaptionModel, optimizer: tf.Optimizer, grads: tf.Tensor[], clipNorm: number) {
  let g = grads;
  if (clipNorm > 0) {
    const norm = tf.sqrt(tf.addN(grads.map((x) => tf.sum(tf.square(x)))));
    const scale = tf.minimum(1, tf.div(clipNorm, tf.maximum(norm, 1e-6)));
    g = grads.map((x) => tf.mul(x, scale));
  }
  optimizer.applyGradients(Object.fromEntries(Object.values(model.weights).map((v, i) => [v.name, g[i]])));
}

/** Masked mean loss of one batch in inference mode (no dropout). */
export function batchLoss(model: CaptionModel, batch: Batch, feats: Float32Array): number {
  return tf.tidy(() => {
    const t = batchTensors(batch, feats, model.config.featureShape);
    return maskedCrossEntropy(model.forward(t.feats, t.imageIndex, t.inputs), t.targets).dataSync()[0];
  });
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

/** estimateLoss with each batch split between this thread and the replicas (weights sent once). */
async function estimateLossParallel(model: CaptionModel, images: ImageCaptions[], data: TrainData, batchSize: number, replicas: ReplicaPool): Promise<number> {
  let total = 0;
  let tokens = 0;
  let weights: Float32Array | undefined = flattenWeights(model);
  for (const group of groupImages(byLength(images), batchSize)) {
    const parts = splitGroup(group, replicas.size + 1).map(packBatch);
    const remote = replicas.losses(parts.slice(1).map((batch) => ({ weights: weights?.slice(), batch, features: data.features.batch(batch.imageIds) })));
    if (parts.length === replicas.size + 1) weights = undefined; // every replica has them now
    const n = countTokens(parts[0]);
    total += batchLoss(model, parts[0], data.features.batch(parts[0].imageIds)) * n;
    tokens += n;
    for (const r of await remote) (total += r.loss * r.tokens), (tokens += r.tokens);
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
  hooks: TrainHooks, state: TrainState = freshState(), pool?: ReplicaPool,
): Promise<TrainState> {
  const replicas = params.workers > 1
    ? pool ?? (await ReplicaPool.start(params.workers - 1, { config: model.config as CaptionModelConfig, backend: tf.getBackend() as TfBackend }))
    : undefined;
  try {
    return await trainEpochs(model, optimizer, data, params, seed, hooks, state, replicas);
  } finally {
    if (!pool) await replicas?.close();
  }
}

async function trainEpochs(
  model: CaptionModel, optimizer: tf.Optimizer, data: TrainData, params: TrainParams, seed: number,
  hooks: TrainHooks, state: TrainState, replicas: ReplicaPool | undefined,
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
        ? await parallelStep(model, optimizer, splitGroup(group, params.workers).map(packBatch), data, params.clipNorm, dropout, replicas)
        : trainStep(model, optimizer, packBatch(group), data, params.clipNorm, dropout);
      sum += loss;
      state.step++;
      progress.tick(group.reduce((a, img) => a + img.captions.length, 0), `loss ${loss.toFixed(3)}`);
    }
    progress.stop();
    const devLoss = !data.dev.length ? NaN
      : replicas ? await estimateLossParallel(model, data.dev, data, params.batchSize, replicas)
      : estimateLoss(model, data.dev, data, params.batchSize);
    const entry: EpochLog = { epoch, step: state.step, loss: sum / groups.length, dev_loss: devLoss, lr };
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
