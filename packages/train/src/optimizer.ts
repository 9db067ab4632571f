/** The optimizer (Adam or RMSprop) and its learning rate per epoch (constant, step decay or cosine). */
import { tf } from '@caption/core/tf';
import type { TrainParams } from './params.ts';

export function createOptimizer(params: Pick<TrainParams, 'optimizer' | 'learningRate'>): tf.Optimizer {
  return params.optimizer === 'rmsprop' ? tf.train.rmsprop(params.learningRate) : tf.train.adam(params.learningRate);
}

export function getLr(params: Pick<TrainParams, 'learningRate' | 'lrSchedule' | 'lrDecay' | 'epochs'>, epoch: number): number {
  const { learningRate: lr, epochs } = params;
  if (params.lrSchedule === 'step') return lr * params.lrDecay ** (epoch - 1);
  if (params.lrSchedule === 'cosine') return lr * (0.1 + 0.45 * (1 + Math.cos((Math.PI * (epoch - 1)) / Math.max(epochs - 1, 1))));
  return lr;
}

/** The rate the optimizer's next steps take (TF.js reads the field on every step). */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = lr;
}
