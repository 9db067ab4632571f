/**
 * A training replica (see replicas.ts): holds a copy of the model; for each task it loads the sent weights
 * and returns the loss, target-token count and gradients of its part of the batch.
 */
import { parentPort } from 'node:worker_threads';
import { Rng } from '@caption/core';
import { initTf, tf } from '@caption/core/tf';
import { assignWeights, concat } from './flat-weights.ts';
import { batchGradients, batchLoss, countTokens } from './step.ts';
import type { ReplicaInit, ReplicaResult, ReplicaTask, SampleResult, SampleTask } from './replicas.ts';
import { sampleCaptions } from './scst.ts';
import { createCaptionModel, DropoutSeeds, type CaptionModel } from '@caption/model';

type Message = { type: 'init'; init: ReplicaInit } | { type: 'step' | 'loss'; task: ReplicaTask } | { type: 'sample'; task: SampleTask };

let model: CaptionModel | undefined;
let smoothing = 0;

parentPort!.on('message', async (msg: Message) => {
  try {
    if (msg.type === 'init') {
      await initTf(msg.init.backend);
      model = createCaptionModel(msg.init.config, 0);
      smoothing = msg.init.labelSmoothing ?? 0;
      parentPort!.postMessage({ ok: true });
      return;
    }
    if (msg.task.weights) assignWeights(model!, msg.task.weights);
    if (msg.type === 'sample') {
      const sampled = sample(model!, msg.task);
      parentPort!.postMessage({ ok: true, result: sampled }, [sampled.tokens.buffer as ArrayBuffer, sampled.lengths.buffer as ArrayBuffer]);
      return;
    }
    const result = msg.type === 'step' ? step(model!, msg.task) : { loss: batchLoss(model!, msg.task.batch, msg.task.features), tokens: countTokens(msg.task.batch), grads: new Float32Array(0) };
    parentPort!.postMessage({ ok: true, result }, [result.grads.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort!.postMessage({ ok: false, error: (err as Error).stack ?? String(err) });
  }
});

function step(m: CaptionModel, task: ReplicaTask): ReplicaResult {
  // tidy returns tensors only: handed a big typed array, it would walk every element looking for tensors
  const { loss, grads } = tf.tidy(() => batchGradients(m, task.batch, task.features, new DropoutSeeds(task.dropoutSeed!, task.dropoutCount), smoothing));
  const result = { loss: loss.dataSync()[0], tokens: countTokens(task.batch), grads: concat(grads.map((g) => g.dataSync() as Float32Array)) };
  tf.dispose([loss, ...grads]);
  return result;
}

function sample(m: CaptionModel, task: SampleTask): SampleResult {
  const [L, D] = (m.config.featureShape);
  const row = L * D;
  const index = new Map(task.imageIds.map((id, i) => [id, i]));
  const features = {
    shape: [L, D] as [number, number],
    batch: (ids: string[]) => {
      const out = new Float32Array(ids.length * row);
      ids.forEach((id, i) => out.set(task.features.subarray(index.get(id)! * row, (index.get(id)! + 1) * row), i * row));
      return out;
    },
  };
  const captions = sampleCaptions(m, features, task.imageIds, task, new Rng(task.seed));
  return { tokens: concatInts(captions), lengths: Int32Array.from(captions.map((c) => c.length)) };
}

function concatInts(parts: Int32Array[]): Int32Array {
  const out = new Int32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}
