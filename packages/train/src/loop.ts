/**
 * The training loop: seeded image order per epoch, teacher forcing, masked loss, Adam with global-norm
 * clipping; dev loss after every epoch, and the weights of the best dev epoch restored at the end.
 */
import { Rng, deriveSeed, type FeatureStore, type Logger } from '@caption/core';
import { tf } from '@caption/core/tf';
import { makeBatches, type Batch, type ImageCaptions } from './batches.ts';
import { maskedCrossEntropy } from './loss.ts';
import type { CaptionModel } from './models/index.ts';
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

export function getBatchTensors(batch: Batch, features: FeatureStore) {
  const [L, D] = features.shape;
  return {
    feats: tf.tensor3d(features.batch(batch.imageIds), [batch.imageIds.length, L, D]),
    imageIndex: tf.tensor1d(batch.imageIndex, 'int32'),
    inputs: tf.tensor2d(batch.inputs, [batch.B, batch.T], 'int32'),
    targets: tf.tensor2d(batch.targets, [batch.B, batch.T], 'int32'),
  };
}

function trainStep(model: CaptionModel, optimizer: tf.Optimizer, batch: Batch, data: TrainData, clipNorm: number): number {
  return tf.tidy(() => {
    const t = getBatchTensors(batch, data.features);
    const vars = Object.values(model.weights);
    const { value, grads } = tf.variableGrads(() => maskedCrossEntropy(model.forward(t.feats, t.imageIndex, t.inputs), t.targets), vars);
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

export function train(model: CaptionModel, data: TrainData, params: TrainParams, seed: number, log: Logger): EpochLog[] {
  const optimizer = tf.train.adam(params.learningRate);
  const history: EpochLog[] = [];
  let best = { loss: Infinity, weights: undefined as tf.Tensor[] | undefined };
  let step = 0;
  for (let epoch = 1; epoch <= params.epochs; epoch++) {
    const started = Date.now();
    const order = new Rng(deriveSeed(seed, `epoch-${epoch}`)).shuffle(data.train);
    const batches = makeBatches(order, params.batchSize);
    let sum = 0;
    let captions = 0;
    for (const batch of batches) {
      sum += trainStep(model, optimizer, batch, data, params.clipNorm);
      captions += batch.B;
      step++;
    }
    const devLoss = data.dev.length ? estimateLoss(model, data.dev, data, params.batchSize) : NaN;
    const entry = { epoch, step, loss: sum / batches.length, dev_loss: devLoss, lr: params.learningRate };
    history.push(entry);
    const secs = (Date.now() - started) / 1000;
    log.info(`epoch ${epoch}/${params.epochs} loss ${entry.loss.toFixed(4)} dev ${devLoss.toFixed(4)} ` +
      `(${secs.toFixed(1)} s, ${(captions / secs).toFixed(1)} captions/s)`);
    if (!(devLoss >= best.loss)) {
      best.weights?.forEach((w) => w.dispose());
      best = { loss: devLoss, weights: Object.values(model.weights).map((w) => w.clone()) };
    }
  }
  // Restore the weights of the best dev epoch (early-stopping semantics without stopping early).
  if (best.weights) Object.values(model.weights).forEach((w, i) => (w.assign(best.weights![i]), best.weights![i].dispose()));
  optimizer.dispose();
  return history;
}
