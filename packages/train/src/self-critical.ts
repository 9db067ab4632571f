/**
 * The self-critical phase (train.scstEpochs; sampling and rewards in scst.ts): from the best cross-entropy
 * weights, at a constant `scstLearningRate`, each epoch samples captions for every train image, steps on their
 * advantage-weighted loss, and is the best when its greedy dev CIDEr-D beats every earlier one's (and the
 * cross-entropy weights'). The moving average is not kept here: the sampled policy is the model itself.
 */
import { Rng, createProgress, deriveSeed, type Progress } from '@caption/core';
import { sampleParallel } from './data-parallel.ts';
import { groupImages, type ImageCaptions } from './batches.ts';
import { setLearningRate } from './optimizer.ts';
import { greedyCider, referenceTokens, sampleCaptions, scoreSamples } from './scst.ts';
import type { TrainSession } from './session.ts';
import type { EpochLog, TrainState } from './state.ts';
import { CiderD } from '@caption/metrics';

/** How the phase samples and scores: the train references, CIDEr-D over them, the longest caption to decode. */
interface Sampling {
  references: Map<string, number[][]>;
  scorer: CiderD;
  maxLength: number;
}

/** Greedy dev CIDEr-D of the model's current weights (NaN without dev images). */
function devCider(session: TrainSession, maxLength: number): number {
  const { data, params } = session.setup;
  return data.dev.length ? greedyCider(session.model, data.features, data.dev, maxLength, params.batchSize) : NaN;
}

/** The switch from cross-entropy: the best weights back, and the dev CIDEr-D they score (the one to beat). */
async function beginSelfCritical(session: TrainSession, maxLength: number): Promise<void> {
  await session.restoreBest();
  session.state = { ...session.state, selfCritical: { start: session.state.epoch + 1, devCider: devCider(session, maxLength) } };
  session.setup.hooks.log(`self-critical training from epoch ${session.state.bestEpoch}'s weights: dev CIDEr-D ${session.state.selfCritical!.devCider.toFixed(4)}`);
}

/** Sample, score and step on every group in turn; the epoch's mean loss and mean reward per image. */
async function sampleAndStep(
  session: TrainSession, groups: ImageCaptions[][], sampling: Sampling, rng: Rng, progress: Progress,
): Promise<{ loss: number; reward: number }> {
  const { data, params } = session.setup;
  const opts = { samples: params.scstSamples, maxLength: sampling.maxLength };
  let loss = 0;
  let reward = 0;
  for (const group of groups) {
    // one thread: the epoch's stream; with replicas: a stream per group and part (the split is train.workers')
    const captions = session.replicas
      ? await sampleParallel(session.model, data, group, opts, rng.int(2 ** 31), session.replicas)
      : sampleCaptions(session.model, data.features, group.map((img) => img.imageId), opts, rng);
    const sampled = scoreSamples(group, captions, sampling.references, sampling.scorer, opts);
    loss += await session.step(sampled.images);
    reward += sampled.meanReward * group.length;
    progress.tick(group.length, `reward ${sampled.meanReward.toFixed(3)}`);
  }
  progress.stop();
  return { loss: loss / groups.length, reward: reward / data.train.length };
}

const bestCider = (state: TrainState) =>
  Math.max(state.selfCritical!.devCider, ...state.history.filter((h) => h.dev_cider !== undefined).map((h) => h.dev_cider!));

/** `scstEpochs` self-critical epochs, begun here or (a resumed run) where they were left off. */
export async function selfCriticalEpochs(session: TrainSession): Promise<void> {
  const { data, params, hooks, seed } = session.setup;
  if (params.scstEpochs <= 0) return;
  // decode as long as the longest train caption: at most its words + <end>
  const maxLength = Math.max(...data.train.flatMap((img) => img.captions.map((c) => c.length))) - 1;
  if (!session.state.selfCritical) await beginSelfCritical(session, maxLength);
  const last = session.state.selfCritical!.start + params.scstEpochs - 1;
  const references = referenceTokens(data.train);
  const sampling: Sampling = { references, scorer: new CiderD(references.values()), maxLength }; // df over the train references
  setLearningRate(session.setup.optimizer, params.scstLearningRate);
  while (session.state.epoch < last) {
    const epoch = session.state.epoch + 1;
    const rng = new Rng(deriveSeed(seed, `scst-epoch-${epoch}`));
    const groups = groupImages(rng.shuffle(data.train), params.batchSize);
    const progress = createProgress(`[train] self-critical epoch ${epoch}/${last}`, data.train.length, 'images');
    const { loss, reward } = await sampleAndStep(session, groups, sampling, rng, progress);
    const entry: EpochLog = {
      epoch, step: session.state.step, loss, dev_loss: await session.devLoss(), lr: params.scstLearningRate,
      reward, dev_cider: devCider(session, maxLength),
    };
    const improved = !(entry.dev_cider! <= bestCider(session.state)); // NaN (no dev set) counts as improved: keep the latest
    session.endEpoch(entry, improved);
    hooks.log(`self-critical epoch ${epoch}/${last} reward ${reward.toFixed(4)} dev CIDEr-D ${entry.dev_cider!.toFixed(4)} ` +
      `dev loss ${entry.dev_loss.toFixed(4)}${improved ? ' (best)' : ''}`);
    if (improved) session.keepBest(Object.values(session.model.weights));
    await hooks.onEpoch?.(session.state, improved);
  }
}
