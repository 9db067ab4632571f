/**
 * The data-parallel step and dev loss (train.workers > 1): this thread takes part 0 of each batch while the
 * replicas (replicas.ts) take the other parts.
 */
import { deriveSeed, Rng } from '@caption/core';
import { tf } from '@caption/core/tf';
import { byLength, groupImages, packBatch, splitGroup, type Batch, type ImageCaptions } from './batches.ts';
import { flattenWeights, unflatten } from './flat-weights.ts';
import type { TrainData } from './state.ts';
import type { ReplicaPool } from './replicas.ts';
import { sampleCaptions } from './scst.ts';
import { applyGradients, batchGradients, batchLoss, countTokens, type StepParams } from './step.ts';
import { type CaptionModel, type DropoutSeeds } from '@caption/model';

/**
 * One step over `parts` of a batch: replicas take parts 1.., this thread part 0 meanwhile; gradients are
 * averaged weighted by target tokens, so the step follows the whole batch's masked mean loss.
 */
export async function parallelStep(
  model: CaptionModel, optimizer: tf.Optimizer, parts: Batch[], data: TrainData, params: StepParams,
  dropout: DropoutSeeds, replicas: ReplicaPool,
): Promise<number> {
  const weights = flattenWeights(model);
  const remote = replicas.gradients(parts.slice(1).map((batch, i) => ({
    weights: i === 0 ? weights : weights.slice(), batch, features: data.features.batch(batch.imageIds),
    dropoutSeed: deriveSeed(dropout.seed, `replica-${i + 1}`), dropoutCount: dropout.count,
  })));
  const local = tf.tidy(() => batchGradients(model, parts[0], data.features.batch(parts[0].imageIds), dropout, params.labelSmoothing));
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
    applyGradients(model, optimizer, grads, params.clipNorm);
    const loss = share[0] * local.loss.dataSync()[0] + results.reduce((a, r, p) => a + share[p + 1] * r.loss, 0);
    tf.dispose([local.loss, ...local.grads]);
    return loss;
  });
}

/** estimateLoss with each batch split between this thread and the replicas (weights sent once). */
export async function estimateLossParallel(model: CaptionModel, images: ImageCaptions[], data: TrainData, batchSize: number, replicas: ReplicaPool): Promise<number> {
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

/**
 * Self-critical sampling of `group` split like a step: replicas sample parts 1.., this thread part 0, each part
 * from its own stream `deriveSeed(seed, 'part-<i>')`; the captions come back in the group's image order.
 */
export async function sampleParallel(
  model: CaptionModel, data: TrainData, group: readonly ImageCaptions[], opts: { samples: number; maxLength: number },
  seed: number, replicas: ReplicaPool,
): Promise<Int32Array[]> {
  const parts = splitGroup(group, replicas.size + 1).map((part) => part.map((img) => img.imageId));
  const weights = flattenWeights(model);
  const remote = replicas.samples(parts.slice(1).map((imageIds, i) => ({
    weights: i === 0 ? weights : weights.slice(), imageIds, features: data.features.batch(imageIds), ...opts, seed: deriveSeed(seed, `part-${i + 1}`),
  })));
  const local = sampleCaptions(model, data.features, parts[0], opts, new Rng(deriveSeed(seed, 'part-0')));
  const sampled = [local];
  for (const r of await remote) {
    let at = 0;
    sampled.push(Array.from(r.lengths, (n) => r.tokens.slice(at, (at += n))));
  }
  return sampled.flat();
}
