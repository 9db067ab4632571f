/**
 * The training loop for a caller that wants it whole (tests, bench:train): the cross-entropy phase
 * (cross-entropy.ts), then, with `scstEpochs`, the self-critical one (self-critical.ts), then the best epoch's
 * weights back in the model. The train stage runs the same phases itself (stage.ts), around its checkpoints.
 */
import type { tf } from '@caption/core/tf';
import { crossEntropyEpochs } from './cross-entropy.ts';
import type { TrainParams } from './params.ts';
import type { ReplicaPool } from './replicas.ts';
import { selfCriticalEpochs } from './self-critical.ts';
import { TrainSession } from './session.ts';
import type { Resumed, TrainData, TrainHooks, TrainState } from './state.ts';
import type { CaptionModel } from '@caption/model';

/** Train `model` (from `resumed`, if any) and leave the best epoch's weights in it; `pool`: replicas to borrow. */
export async function train(
  model: CaptionModel, optimizer: tf.Optimizer, data: TrainData, params: TrainParams, seed: number,
  hooks: TrainHooks, resumed?: Resumed, pool?: ReplicaPool,
): Promise<TrainState> {
  const session = await TrainSession.open({ model, optimizer, data, params, seed, hooks }, resumed, pool);
  try {
    await crossEntropyEpochs(session);
    await selfCriticalEpochs(session);
    await session.restoreBest();
    return session.state;
  } finally {
    await session.close();
  }
}
