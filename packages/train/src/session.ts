/**
 * One training run's working set, shared by its phases (cross-entropy.ts, then self-critical.ts): model,
 * optimizer, data, params, seed and hooks; the loop state; the replica threads (train.workers > 1), the weight
 * average (train.ema) and the dropout seeds; and the best epoch's weights, kept to be restored at the end.
 */
import { deriveSeed, failpoint } from '@caption/core';
import { tf, type TfBackend } from '@caption/core/tf';
import { packBatch, splitGroup, type ImageCaptions } from './batches.ts';
import { estimateLossParallel, parallelStep } from './data-parallel.ts';
import { estimateLoss } from './dev-loss.ts';
import type { TrainParams } from './params.ts';
import { ReplicaPool } from './replicas.ts';
import { freshState, type EpochLog, type Resumed, type TrainData, type TrainHooks, type TrainState } from './state.ts';
import { trainStep } from './step.ts';
import { WeightAverage } from './weight-average.ts';
import { DropoutSeeds, type CaptionModel, type CaptionModelConfig } from '@caption/model';

/** What a run trains and how: the stage's (or a caller's) inputs to it. */
export interface TrainSetup {
  model: CaptionModel;
  optimizer: tf.Optimizer;
  data: TrainData;
  params: TrainParams;
  seed: number;
  hooks: TrainHooks;
}

export class TrainSession {
  readonly dropout: DropoutSeeds;
  private best?: tf.Tensor[];

  private constructor(
    readonly setup: TrainSetup, public state: TrainState, readonly replicas: ReplicaPool | undefined,
    private readonly ownsReplicas: boolean, readonly average: WeightAverage | undefined,
  ) {
    this.dropout = new DropoutSeeds(deriveSeed(setup.seed, 'dropout'), state.dropoutCount);
  }

  /**
   * Start a run, or go on with a `resumed` one: replica threads (unless `pool` lends them: then they stay open
   * after close()), the weight average (from the resumed one, if any), dropout seeds at the saved counter.
   */
  static async open(setup: TrainSetup, resumed?: Resumed, pool?: ReplicaPool): Promise<TrainSession> {
    const { model, params } = setup;
    const replicas = params.workers > 1
      ? pool ?? (await ReplicaPool.start(params.workers - 1, {
        config: model.config as CaptionModelConfig, backend: tf.getBackend() as TfBackend, labelSmoothing: params.labelSmoothing,
      }))
      : undefined;
    const average = params.ema > 0 ? WeightAverage.start(model, params.ema, resumed?.average) : undefined;
    return new TrainSession(setup, resumed?.state ?? freshState(), replicas, !pool, average);
  }

  get model(): CaptionModel {
    return this.setup.model;
  }

  get params(): TrainParams {
    return this.setup.params;
  }

  /** One optimizer step on `images` (split across the threads with replicas); returns its loss. */
  async step(images: readonly ImageCaptions[]): Promise<number> {
    const { model, optimizer, data, params } = this.setup;
    const loss = this.replicas
      ? await parallelStep(model, optimizer, splitGroup(images, params.workers).map(packBatch), data, params, this.dropout, this.replicas)
      : trainStep(model, optimizer, packBatch(images), data.features, params, this.dropout);
    this.state.step++;
    failpoint(`train:step-${this.state.step}`);
    return loss;
  }

  /** The dev loss of the model's current weights (NaN without dev images). */
  async devLoss(): Promise<number> {
    const { model, data, params } = this.setup;
    if (!data.dev.length) return NaN;
    return this.replicas
      ? await estimateLossParallel(model, data.dev, data, params.batchSize, this.replicas)
      : estimateLoss(model, data.dev, data, params.batchSize);
  }

  /** Epoch `entry.epoch` is over: into the state, with its epoch the best when `improved`. */
  endEpoch(entry: EpochLog, improved: boolean): void {
    const { state } = this;
    const epoch = entry.epoch;
    this.state = { ...state, epoch, history: [...state.history, entry], bestEpoch: improved ? epoch : state.bestEpoch, dropoutCount: this.dropout.count };
  }

  /** A copy of `weights` (model.weights order) as the best epoch's. */
  keepBest(weights: readonly tf.Tensor[]): void {
    this.best?.forEach((w) => w.dispose());
    this.best = weights.map((w) => w.clone());
  }

  /** The best epoch's (averaged) weights into the model, from memory or (after a resume) from its checkpoint. */
  async restoreBest(): Promise<void> {
    this.best ??= await this.setup.hooks.loadBest?.();
    if (this.best?.length) Object.values(this.model.weights).forEach((w, i) => w.assign(this.best![i]));
  }

  async close(): Promise<void> {
    this.best?.forEach((w) => w.dispose());
    this.best = undefined;
    this.average?.dispose();
    if (this.ownsReplicas) await this.replicas?.close();
  }
}
