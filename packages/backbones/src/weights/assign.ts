/**
 * Putting weights into a built network, layer by layer, by Keras layer name: from a Keras .h5 file
 * (checked completely, names and shapes, before any data is read) or from the seeded random generator.
 * The weights hash is computed from the values as they are assigned.
 */
import { createHash } from 'node:crypto';
import { tf } from '@caption/core/tf';
import type { KerasH5, H5Weight } from './h5.ts';
import { randomWeight } from './random.ts';

type Layer = tf.layers.Layer;

/** The Keras short name of a TF.js layer variable: 'block1_conv1/kernel' -> 'kernel'. */
export function variableKey(v: tf.LayerVariable): string {
  return (v.originalName ?? v.name).split('/').pop()!;
}

const KERAS1_ALIASES: Record<string, string> = {
  W: 'kernel', b: 'bias', running_mean: 'moving_mean', running_std: 'moving_variance',
};

/** The short name of a weight in an h5 file: 'fc1/kernel:0' -> 'kernel', Keras 1 'fc1_W_1:0' -> 'kernel'. */
export function h5WeightKey(layer: string, weightName: string): string {
  let k = weightName.replace(/:\d+$/, '').split('/').pop()!;
  if (k.startsWith(`${layer}_`)) k = k.slice(layer.length + 1);
  k = k.replace(/_\d+$/, '');
  return KERAS1_ALIASES[k] ?? k;
}

/** Model weights a file may leave out (the layer keeps its value): Keras Normalization's sample count. */
const OPTIONAL = new Set(['count']);
/** Keras weight names whose meaning is known: two layers naming different ones never match by order. */
const KNOWN = new Set(['kernel', 'bias', 'gamma', 'beta', 'moving_mean', 'moving_variance', 'depthwise_kernel', 'pointwise_kernel', 'mean', 'variance', 'count']);

/**
 * Sets layer weights and hashes them: every weight's layer name, key, shape and float32 bytes, in
 * order. The hash depends on the values only, not on where they came from (the same network from a
 * random init or from an .h5 written from it hashes the same).
 */
class Assigner {
  private readonly hash = createHash('sha256');

  /** Hash `values` and, with `set`, make them the layer's weights. */
  add(layer: Layer, values: Float32Array[], set = true): void {
    const vars = layer.weights;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      this.hash.update(`${layer.name}/${variableKey(vars[i])}:${vars[i].shape.join('x')}\n`);
      this.hash.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    }
    if (!set) return;
    const tensors = values.map((v, i) => tf.tensor(v, vars[i].shape as number[], 'float32'));
    layer.setWeights(tensors);
    tensors.forEach((t) => t.dispose());
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

const current = (layer: Layer): Float32Array[] => layer.getWeights().map((t) => t.dataSync() as Float32Array);

/** The weighted layers of `model`, in order. */
export function weightedLayers(model: tf.LayersModel): Layer[] {
  return model.layers.filter((l) => l.weights.length > 0);
}

/**
 * Seeded random values for every weight of `layers` except those `keep` says keep their built values
 * (the preprocessing statistics); returns the hash of all of them.
 */
export function assignRandom(layers: Layer[], seed: number, keep: (l: Layer) => boolean = () => false): string {
  const a = new Assigner();
  for (const layer of layers) {
    if (keep(layer)) a.add(layer, current(layer), false);
    else a.add(layer, layer.weights.map((v) => randomWeight(seed, layer.name, variableKey(v), v.shape as number[])));
  }
  return a.digest();
}

/**
 * Assign every weight of `layers` from a Keras h5 file: each layer by name; within a layer by weight name
 * (`kernel`, `bias`, `gamma`, ..., Keras 1's `_W`/`_b` too), or, when the names do not say, in order (as
 * Keras' own load_weights does); shapes must match exactly. Every layer is checked before data is read.
 * Layers in the file the network does not have (a classifier head, layers past the cut) are ignored.
 */
export function assignFromH5(layers: Layer[], h5: KerasH5, network: string): { hash: string; used: number } {
  const plans: { layer: Layer; sources: (H5Weight | undefined)[] }[] = [];
  const missing: string[] = [];
  const problems: string[] = [];
  for (const layer of layers) {
    const stored = h5.layers.get(layer.name);
    if (!stored || !stored.length) {
      missing.push(layer.name);
      continue;
    }
    const vars = layer.weights;
    const want = vars.map(variableKey);
    const have = stored.map((w) => h5WeightKey(layer.name, w.name));
    let sources: (H5Weight | undefined)[];
    const byName = new Map(have.map((k, i) => [k, stored[i]]));
    const named = byName.size === have.length &&
      have.every((k) => want.includes(k)) &&
      want.every((k) => byName.has(k) || OPTIONAL.has(k));
    if (named) sources = want.map((k) => byName.get(k));
    else if (have.length === want.length && !(have.every((k) => KNOWN.has(k)) && want.every((k) => KNOWN.has(k)))) sources = stored;
    else {
      problems.push(`layer '${layer.name}' (${layer.getClassName()}) has weights [${stored.map((w) => w.name).join(', ')}] in the file; the network needs [${want.join(', ')}]`);
      continue;
    }
    sources.forEach((src, i) => {
      if (!src) return;
      const need = vars[i].shape as number[];
      if (src.shape.length !== need.length || src.shape.some((d, j) => d !== need[j])) {
        problems.push(`layer '${layer.name}' weight '${src.name}' has shape [${src.shape.join(', ')}]; the network needs ${want[i]} [${need.join(', ')}]`);
      }
    });
    plans.push({ layer, sources });
  }
  if (missing.length) {
    const shown = missing.slice(0, 8).map((m) => `'${m}'`).join(', ') + (missing.length > 8 ? `, ... (${missing.length} in all)` : '');
    problems.unshift(`no weights for layer${missing.length > 1 ? 's' : ''} ${shown} that the ${network} network needs (the file has ${h5.layerNames.length} layers${h5.layerNames.length ? `: ${h5.layerNames.slice(0, 5).join(', ')}${h5.layerNames.length > 5 ? ', ...' : ''}` : ''})`);
  }
  if (problems.length) throw new Error(`${h5.file}: does not fit ${network}: ${problems.join('; ')}`);

  const a = new Assigner();
  for (const { layer, sources } of plans) {
    const now = sources.some((s) => !s) ? current(layer) : [];
    a.add(layer, sources.map((s, i) => (s ? s.read() : now[i])));
  }
  return { hash: a.digest(), used: plans.length };
}
