/**
 * One training step on one thread, and the pieces the data-parallel step shares with it: batch tensors,
 * masked loss + gradients, global-norm clipping + optimizer update, inference loss.
 */
import { type FeatureStore } from '@caption/core';
import { tf } from '@caption/core/tf';
import type { Batch } from './batches.ts';
import type { TrainParams } from './params.ts';
import { type CaptionModel, type DropoutSeeds, maskedCrossEntropy } from '@caption/model';

/** The train params a step reads. */
export type StepParams = Pick<TrainParams, 'clipNorm' | 'labelSmoothing'>;

export function getBatchTensors(batch: Batch, features: FeatureStore) {
  return batchTensors(batch, features.batch(batch.imageIds), features.shape);
}

function batchTensors(batch: Batch, feats: Float32Array, [L, D]: readonly [number, number]) {
  return {
    feats: tf.tensor3d(feats, [batch.imageIds.length, L, D]),
    imageIndex: tf.tensor1d(batch.imageIndex, 'int32'),
    inputs: tf.tensor2d(batch.inputs, [batch.B, batch.T], 'int32'),
    targets: tf.tensor2d(batch.targets, [batch.B, batch.T], 'int32'),
    weights: batch.weights && tf.tensor1d(batch.weights),
  };
}

/** Target tokens that count in the loss (not <pad>): a batch part's weight when gradients are averaged. */
export const countTokens = (batch: Batch) => batch.targets.reduce((a, id) => a + (id !== 0 ? 1 : 0), 0);

/**
 * Masked loss (label-smoothed by `smoothing`, + the model's penalty) of one batch and its gradients in
 * model.weights order; call in tf.tidy. A batch with per-caption weights is a self-critical batch: its loss is
 * the weighted one and is never smoothed.
 */
export function batchGradients(model: CaptionModel, batch: Batch, feats: Float32Array, dropout?: DropoutSeeds, smoothing = 0) {
  const t = batchTensors(batch, feats, model.config.featureShape);
  const vars = Object.values(model.weights);
  const { value, grads } = tf.variableGrads(() => {
    const aux: { penalty?: tf.Scalar } = {};
    const logits = model.forward(t.feats, t.imageIndex, t.inputs, { dropout, aux });
    const loss = maskedCrossEntropy(logits, t.targets, t.weights ? 0 : smoothing, t.weights);
    return aux.penalty ? tf.add(loss, aux.penalty) : loss;
  }, vars);
  return { loss: value, grads: vars.map((v) => grads[v.name]) };
}

export function trainStep(model: CaptionModel, optimizer: tf.Optimizer, batch: Batch, features: FeatureStore, params: StepParams, dropout: DropoutSeeds): number {
  return tf.tidy(() => {
    const { loss, grads } = batchGradients(model, batch, features.batch(batch.imageIds), dropout, params.labelSmoothing);
    applyGradients(model, optimizer, grads, params.clipNorm);
    return loss.dataSync()[0];
  });
}

/** Clip by global norm, then one optimizer update. */
export function applyGradients(model: CaptionModel, optimizer: tf.Optimizer, grads: tf.Tensor[], clipNorm: number) {
  let g = grads;
  if (clipNorm > 0) {
    const norm = tf.sqrt(tf.addN(grads.map((x) => tf.sum(tf.square(x)))));
    const scale = tf.minimum(1, tf.div(clipNorm, tf.maximum(norm, 1e-6)));
    g = grads.map((x) => tf.mul(x, scale));
  }
  optimizer.applyGradients(Object.fromEntries(Object.values(model.weights).map((v, i) => [v.name, g[i]])));
}

/** Masked mean loss of one batch in inference mode (no dropout, no smoothing: comparable across runs). */
export function batchLoss(model: CaptionModel, batch: Batch, feats: Float32Array): number {
  return tf.tidy(() => {
    const t = batchTensors(batch, feats, model.config.featureShape);
    return maskedCrossEntropy(model.forward(t.feats, t.imageIndex, t.inputs), t.targets).dataSync()[0];
  });
}
