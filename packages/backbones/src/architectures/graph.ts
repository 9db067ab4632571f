/**
 * What the networks built in code share: the layers applied so far by name (so a build can stop at any named
 * layer: `stopAt`), Keras' automatic layer names, Keras' `correct_pad`, and running a network's stages until
 * `stopAt` is built.
 */
import { tf } from '@caption/core/tf';

type T = tf.SymbolicTensor;

export class LayerGraph {
  private readonly counts = new Map<string, number>();
  readonly outputs = new Map<string, T>();

  /** `base` the first time, then `base_1`, `base_2`, ... (keras backend.unique_object_name, zero_based). */
  auto(base: string): string {
    const n = this.counts.get(base) ?? 0;
    this.counts.set(base, n + 1);
    return n ? `${base}_${n}` : base;
  }

  apply(layer: tf.layers.Layer, x: T | T[]): T {
    const y = layer.apply(x) as T;
    this.outputs.set(layer.name, y);
    return y;
  }
}

/** keras imagenet_utils.correct_pad: ((k//2 - adjust, k//2), ...) with adjust = 1 - size % 2. */
export function correctPad(x: T, k: number): [[number, number], [number, number]] {
  const [, h, w] = x.shape as number[];
  const c = Math.floor(k / 2);
  return [[c - (1 - (h % 2)), c], [c - (1 - (w % 2)), c]];
}

/**
 * The model from `input` through `stages` applied in turn to `x`, ending at layer `stopAt` as soon as a stage
 * has built it (an unknown name builds every stage).
 */
export function buildUntil(graph: LayerGraph, input: T, x: T, stages: ((y: T) => T)[], stopAt: string | undefined, name: string): tf.LayersModel {
  for (const stage of stages) {
    x = stage(x);
    const stop = stopAt === undefined ? undefined : graph.outputs.get(stopAt);
    if (stop) return tf.model({ inputs: input, outputs: stop, name });
  }
  return tf.model({ inputs: input, outputs: x, name });
}
