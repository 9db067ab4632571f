/** Model weights as one flat Float32Array (model.weights order): how weights and gradients cross threads. */
import { tf } from '@caption/core/tf';
import { type CaptionModel } from '@caption/model';

/** All weights as one array (model.weights order): what a replica is sent every step. */
export function flattenWeights(model: CaptionModel): Float32Array {
  return concat(Object.values(model.weights).map((w) => w.dataSync() as Float32Array));
}

export function assignWeights(model: CaptionModel, flat: Float32Array) {
  unflatten(model, flat).forEach((t, i) => {
    Object.values(model.weights)[i].assign(t);
    t.dispose();
  });
}

export function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}

/** A flat array in model.weights order -> one tensor per weight. */
export function unflatten(model: CaptionModel, flat: Float32Array): tf.Tensor[] {
  let at = 0;
  return Object.values(model.weights).map((w) => {
    const t = tf.tensor(flat.subarray(at, at + w.size), w.shape, 'float32');
    at += w.size;
    return t;
  });
}
