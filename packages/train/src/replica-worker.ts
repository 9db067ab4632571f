/**
 * A training replica (see replicas.ts): holds a copy of the model; for each task it loads the sent weights
 * and returns the loss, target-token count and gradients of its part of the batch.
 */
import { parentPort } from 'node:worker_threads';
import { initTf, tf } from '@caption/core/tf';
import { assignWeights, concat } from './flat-weights.ts';
import { batchGradients, batchLoss, countTokens } from './step.ts';
import type { ReplicaInit, ReplicaResult, ReplicaTask } from './replicas.ts';
import { createCaptionModel, DropoutSeeds, type CaptionModel } from '@caption/model';

type Message = { type: 'init'; init: ReplicaInit } | { type: 'step' | 'loss'; task: ReplicaTask };

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
