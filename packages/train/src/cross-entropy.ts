/**
 * The cross-entropy phase: per epoch a seeded image order (optionally length-bucketed), teacher-forced steps on
 * the masked loss (+ the model's own penalty) at the epoch's learning rate, on this thread or data-parallel;
 * then the dev loss (of the moving average of the weights, with `ema`), the best epoch kept, the `onEpoch`
 * checkpoint hook, and early stopping after `patience` epochs without a better dev loss.
 */
import { Rng, createProgress, deriveSeed, type Progress } from '@caption/core';
import { bucketByLength, groupImages, type ImageCaptions } from './batches.ts';
import { getLr, setLearningRate } from './optimizer.ts';
import type { TrainSession } from './session.ts';
import type { EpochLog, TrainState } from './state.ts';

const captionCount = (images: readonly ImageCaptions[]) => images.reduce((a, img) => a + img.captions.length, 0);

/** Epoch `epoch`'s batches of images, in an order (and, with bucketBatches, length buckets) seeded by the epoch. */
function epochGroups(session: TrainSession, epoch: number): { order: ImageCaptions[]; groups: ImageCaptions[][] } {
  const { params, setup } = session;
  const rng = new Rng(deriveSeed(setup.seed, `epoch-${epoch}`));
  const order = rng.shuffle(setup.data.train);
  const groups = params.bucketBatches > 0 ? bucketByLength(order, params.batchSize, params.bucketBatches, rng) : groupImages(order, params.batchSize);
  return { order, groups };
}

/** A step on every group in turn (each followed by the weight average's update); the epoch's mean train loss. */
async function trainGroups(session: TrainSession, groups: ImageCaptions[][], progress: Progress): Promise<number> {
  let sum = 0;
  for (const group of groups) {
    const loss = await session.step(group);
    session.average?.update(session.model, session.state.step);
    sum += loss;
    progress.tick(captionCount(group), `loss ${loss.toFixed(3)}`);
  }
  progress.stop();
  return sum / groups.length;
}

/** The dev loss of the weights that would be kept: the moving average with `ema`, else the live weights. */
const scoreDev = (session: TrainSession) =>
  session.average ? session.average.applied(session.model, () => session.devLoss()) : session.devLoss();

const bestDevLoss = (state: TrainState) => state.history.find((h) => h.epoch === state.bestEpoch)?.dev_loss ?? Infinity;

const outOfPatience = ({ params, state }: TrainSession) => params.patience > 0 && state.epoch - state.bestEpoch >= params.patience;

/** Cross-entropy epochs up to `epochs` (or early stopping); nothing to do once a run is in its self-critical phase. */
export async function crossEntropyEpochs(session: TrainSession): Promise<void> {
  const { params, setup: { hooks } } = session;
  while (!session.state.selfCritical && session.state.epoch < params.epochs && !outOfPatience(session)) {
    const epoch = session.state.epoch + 1;
    const lr = getLr(params, epoch);
    setLearningRate(session.setup.optimizer, lr);
    const { order, groups } = epochGroups(session, epoch);
    const progress = createProgress(`[train] epoch ${epoch}/${params.epochs}`, captionCount(order), 'captions');
    const loss = await trainGroups(session, groups, progress);
    const devLoss = await scoreDev(session);
    const entry: EpochLog = { epoch, step: session.state.step, loss, dev_loss: devLoss, lr };
    const improved = !(devLoss >= bestDevLoss(session.state)); // NaN (no dev set) counts as improved: keep the latest
    session.endEpoch(entry, improved);
    hooks.log(`epoch ${epoch}/${params.epochs} loss ${loss.toFixed(4)} dev ${devLoss.toFixed(4)} lr ${lr.toPrecision(3)}${improved ? ' (best)' : ''}`);
    if (improved) session.keepBest(session.average?.tensors ?? Object.values(session.model.weights));
    await hooks.onEpoch?.(session.state, improved, session.average?.tensors);
    if (outOfPatience(session)) hooks.log(`early stop: no dev improvement for ${params.patience} epochs`);
  }
}
