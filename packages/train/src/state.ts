/**
 * What the training phases (cross-entropy.ts, self-critical.ts) share: the data they train on, the loop state a
 * resumed run continues from, the per-epoch log and the hooks the stage checkpoints through. Types only, and
 * freshState: everything here is imported by the phases and by the modules they use, and imports none of them.
 */
import type { FeatureStore } from '@caption/core';
import type { tf } from '@caption/core/tf';
import type { ImageCaptions } from './batches.ts';

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
