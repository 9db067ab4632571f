/**
 * Putting weights into a built network, layer by layer: from a Keras .h5 file (by Keras layer name, or by
 * topological order as Keras' load_weights does when the names differ; checked completely, names and
 * shapes, before any data is read) or from the seeded random generator.
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

type Plan = { layer: Layer; sources: (H5Weight | undefined)[] };

/**
 * Which stored weight goes to which weight of `layer` (`stored`: the weights of file layer `fileLayer`): by
 * weight name (`kernel`, `bias`, `gamma`, ..., Keras 1's `_W`/`_b` too), or, when the names do not say, in
 * order; then shapes must match exactly. Returns the sources, or what does not fit (`what` names the layer
 * in the messages: `layer` before a weight's shape, `kind` before the weight names).
 */
function planLayer(layer: Layer, stored: H5Weight[], fileLayer: string, what: { layer: string; kind: string }): { sources: (H5Weight | undefined)[] } | { problems: string[] } {
  const vars = layer.weights;
  const want = vars.map(variableKey);
  const have = stored.map((w) => h5WeightKey(fileLayer, w.name));
  let sources: (H5Weight | undefined)[];
  const byName = new Map(have.map((k, i) => [k, stored[i]]));
  const named = byName.size === have.length &&
    have.every((k) => want.includes(k)) &&
    want.every((k) => byName.has(k) || OPTIONAL.has(k));
  if (named) sources = want.map((k) => byName.get(k));
  else if (have.length === want.length && !(have.every((k) => KNOWN.has(k)) && want.every((k) => KNOWN.has(k)))) sources = stored;
  else return { problems: [`${what.kind} has weights [${stored.map((w) => w.name).join(', ')}] in the file; the network needs [${want.join(', ')}]`] };
  const problems: string[] = [];
  sources.forEach((src, i) => {
    if (!src) return;
    const need = vars[i].shape as number[];
    if (src.shape.length !== need.length || src.shape.some((d, j) => d !== need[j])) {
      problems.push(`${what.layer} weight '${src.name}' has shape [${src.shape.join(', ')}]; the network needs ${want[i]} [${need.join(', ')}]`);
    }
  });
  return problems.length ? { problems } : { sources };
}

/**
 * Assign every weight of `layers` from a Keras h5 file, every layer checked before data is read.
 *
 * By name first: each layer from the file's layer of the same name (weights matched as `planLayer` does);
 * layers in the file the network does not have (a classifier head, layers past the cut) are ignored.
 *
 * When some of the network's layers are not in the file by name (a file saved by another Keras, whose
 * automatic names were numbered differently: `conv2d_1` for today's `conv2d`), by topological order, as
 * Keras' own `model.load_weights(path)` does: the file's layers that have weights, in `layer_names` order,
 * paired one to one with `layers` (the network's weighted layers in model.layers order). The file may hold
 * more layers after those (a notop file and a network cut earlier, or a file with the classifier); every
 * pair must fit. When neither way fits, the error says why for both (the layers missing by name first when
 * only a few are and the others fit).
 */
export function assignFromH5(layers: Layer[], h5: KerasH5, network: string): { hash: string; used: number; by: 'name' | 'order' } {
  const byName = planByName(layers, h5);
  let plans: Plan[];
  let by: 'name' | 'order' = 'name';
  if (!byName.missing.length) {
    if (byName.problems.length) throw new Error(`${h5.file}: does not fit ${network}: ${byName.problems.join('; ')}`);
    plans = byName.plans;
  } else {
    const order = planByOrder(layers, h5);
    if ('problem' in order) {
      const found = layers.length - byName.missing.length;
      const orderMsg = `by topological order (as Keras' load_weights pairs layers): ${order.problem}`;
      // a few layers missing and the rest fitting: the file is this network's, short of those layers
      const nearlyByName = !byName.problems.length && found * 2 > layers.length;
      const msg = nearlyByName
        ? `${missingMessage(byName.missing, h5, network)}; ${orderMsg}`
        : `its layer names are not the network's (${found} of the ${layers.length} weighted layers have a namesake in the file${byName.problems.length ? ' and not all of those fit' : ''}; no '${byName.missing[0]}'); ${orderMsg}`;
      throw new Error(`${h5.file}: does not fit ${network}: ${msg}`);
    }
    plans = order.plans;
    by = 'order';
  }

  const a = new Assigner();
  for (const { layer, sources } of plans) {
    const now = sources.some((s) => !s) ? current(layer) : [];
    a.add(layer, sources.map((s, i) => (s ? s.read() : now[i])));
  }
  return { hash: a.digest(), used: plans.length, by };
}

/** Each layer from the file's layer of its name: the plans, the layers the file lacks, what does not fit. */
function planByName(layers: Layer[], h5: KerasH5): { plans: Plan[]; missing: string[]; problems: string[] } {
  const plans: Plan[] = [];
  const missing: string[] = [];
  const problems: string[] = [];
  for (const layer of layers) {
    const stored = h5.layers.get(layer.name);
    if (!stored || !stored.length) {
      missing.push(layer.name);
      continue;
    }
    const p = planLayer(layer, stored, layer.name, { layer: `layer '${layer.name}'`, kind: `layer '${layer.name}' (${layer.getClassName()})` });
    if ('problems' in p) problems.push(...p.problems);
    else plans.push({ layer, sources: p.sources });
  }
  return { plans, missing, problems };
}

function missingMessage(missing: string[], h5: KerasH5, network: string): string {
  const shown = missing.slice(0, 8).map((m) => `'${m}'`).join(', ') + (missing.length > 8 ? `, ... (${missing.length} in all)` : '');
  const names = h5.layerNames;
  return `no weights for layer${missing.length > 1 ? 's' : ''} ${shown} that the ${network} network needs (the file has ${names.length} layers${names.length ? `: ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''}` : ''})`;
}

/**
 * Keras' load_weights pairing: the file's weighted layers (layer_names order) with `layers`, one to one; the
 * file may have more after them. The first pair that does not fit is the problem.
 */
function planByOrder(layers: Layer[], h5: KerasH5): { plans: Plan[] } | { problem: string } {
  const fileLayers = h5.layerNames.filter((n) => (h5.layers.get(n) ?? []).length > 0);
  if (fileLayers.length < layers.length) {
    return { problem: `the file has ${fileLayers.length} layers with weights, the network needs ${layers.length}` };
  }
  const plans: Plan[] = [];
  for (let k = 0; k < layers.length; k++) {
    const layer = layers[k];
    const fileLayer = fileLayers[k];
    const pair = `file layer '${fileLayer}' (paired with the network's weighted layer #${k + 1} of ${layers.length}, '${layer.name}' (${layer.getClassName()}))`;
    const p = planLayer(layer, h5.layers.get(fileLayer)!, fileLayer, { layer: pair, kind: pair });
    if ('problems' in p) return { problem: p.problems[0] };
    plans.push({ layer, sources: p.sources });
  }
  return { plans };
}
