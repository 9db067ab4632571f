/**
 * What every decoder architecture provides, and seeded weight initialisation shared by them.
 * A model is a set of named variables plus pure functions over them; no tf.layers state to hide.
 */
import { deriveSeed } from '@caption/core';
import { tf } from '@caption/core/tf';

/** Per-architecture recurrent state, batch-major (a plain tensor map, so tf.tidy can return it). */
export type DecodeState = { [name: string]: tf.Tensor };

/**
 * Dropout masks from a seeded counter: every call draws a fresh seed, yet a run (and a resumed run, which
 * restores `count` from the checkpoint) sees exactly the same masks.
 */
export class DropoutSeeds {
  constructor(readonly seed: number, public count = 0) {}
  apply<T extends tf.Tensor>(x: T, rate: number): T {
    if (rate <= 0) return x;
    return tf.dropout(x, rate, undefined, deriveSeed(this.seed, `dropout-${this.count++}`)) as T;
  }
}

export interface ForwardOptions {
  dropout?: DropoutSeeds;                      // training: apply dropout with these seeds; absent = inference
  aux?: { penalty?: tf.Scalar };               // filled by models with an extra loss term (e.g. attention regulariser)
}

export interface CaptionModel {
  config: { decoder: string; featureShape: [number, number]; vocabSize: number };
  weights: Record<string, tf.Variable>;
  /** Teacher forcing. features [K, L, D]; imageIndex [B] -> row of features; inputs [B, T] -> logits [B, T, V]. */
  forward(features: tf.Tensor3D, imageIndex: tf.Tensor1D, inputs: tf.Tensor2D, opts?: ForwardOptions): tf.Tensor3D;
  /** Decoding: initial state for features [B, L, D]. */
  start(features: tf.Tensor3D): DecodeState;
  /** Decoding: one step from tokens [B] -> logits [B, V] (+ attention [B, L] when the model has it). */
  next(state: DecodeState, tokens: tf.Tensor1D): { logits: tf.Tensor2D; attention?: tf.Tensor2D; state: DecodeState };
}

type Init = 'glorot' | 'orthogonal' | 'uniform' | 'zeros';

let models = 0;

/**
 * Create named variables; each gets its own seed derived from (seed, name), so adding a weight changes no other.
 * TF.js registers variables by name process-wide, so each model's variables get a unique prefix (`m<n>/`);
 * without it a second model in one process (e.g. loadCheckpoint after training) throws "already registered".
 */
export function initWeights(seed: number, spec: Record<string, [number[], Init]>): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = {};
  const prefix = `m${++models}/`;
  for (const [name, [shape, init]] of Object.entries(spec)) {
    const s = deriveSeed(seed, name);
    const value = tf.tidy(() => {
      switch (init) {
        case 'zeros': return tf.zeros(shape);
        case 'uniform': return tf.randomUniform(shape, -0.05, 0.05, 'float32', s);
        case 'orthogonal': return tf.initializers.orthogonal({ seed: s }).apply(shape);
        case 'glorot': return tf.initializers.glorotUniform({ seed: s }).apply(shape);
      }
    });
    out[name] = tf.variable(value, true, prefix + name);
  }
  return out;
}
