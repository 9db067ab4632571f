/**
 * Keras 2 HDF5 weights files (`model.save_weights('x.h5')`, the `keras.applications` downloads such as
 * `efficientnetb0_notop.h5` and `vgg16_weights_tf_dim_ordering_tf_kernels.h5`), read and written with
 * h5wasm. The layout (keras/saving/legacy/hdf5_format.py, `save_weights_to_hdf5_group`):
 *
 *   /                      attrs: layer_names (fixed-length byte strings), backend, keras_version
 *   /<layer>               one group per layer, attr weight_names: ['<layer>/kernel:0', '<layer>/bias:0']
 *   /<layer>/<weight name> one dataset per weight, so '<layer>/<layer>/kernel:0'; Keras 1 files (the VGG16
 *                          download) name them '<layer>_W_1:0', '<layer>_b_1:0', directly in the group
 *
 * A full-model file (`model.save('x.h5')`) keeps the same tree under /model_weights. An attribute too big
 * for an HDF5 object header is split by Keras into `layer_names0`, `layer_names1`, ...; both are read.
 * Datasets are read lazily, so a file can be checked against a model before any data is loaded.
 */
import path from 'node:path';

type H5 = typeof import('h5wasm/node');
type Group = import('h5wasm/node').Group;
type Dataset = import('h5wasm/node').Dataset;

let h5: H5 | undefined;
async function h5wasm(): Promise<H5> {
  if (!h5) {
    const mod = await import('h5wasm/node');
    await mod.ready;
    h5 = mod;
  }
  return h5;
}

export interface H5Weight {
  /** the name in `weight_names`, e.g. 'block1_conv1/kernel:0' or 'block1_conv1_W_1:0' */
  name: string;
  shape: number[];
  /** the dataset's type, h5wasm style ('<f', '<d', '<q', ...) */
  dtype: string;
  read(): Float32Array;
}

export interface KerasH5 {
  file: string;
  layerNames: string[];
  /** layers by name (every name in layer_names has an entry; layers without weights have none) */
  layers: Map<string, H5Weight[]>;
  kerasVersion?: string;
  backend?: string;
  close(): void;
}

/** Open a Keras 2 weights file; throws a message naming the file when it is not one. */
export async function openKerasH5(file: string): Promise<KerasH5> {
  const lib = await h5wasm();
  let f: import('h5wasm/node').File;
  try {
    f = new lib.File(file, 'r');
  } catch (err) {
    throw new Error(`${file}: not a readable HDF5 file (${String((err as Error)?.message ?? err)})`);
  }
  if (!f.file_id || f.file_id < 0n) throw new Error(`${file}: not a readable HDF5 file`);
  try {
    let root: Group = f;
    if (stringList(f, 'layer_names') === undefined) {
      const mw = f.get('model_weights');
      if (mw instanceof lib.Group && stringList(mw, 'layer_names') !== undefined) root = mw;
      else if (f.keys().includes('layers') && f.keys().includes('vars')) {
        throw new Error(`${file}: a Keras 3 '.weights.h5' file; only the Keras 2 HDF5 layout (layer_names / weight_names, as keras.applications ships) is supported`);
      } else throw new Error(`${file}: not a Keras weights file (no 'layer_names' attribute at / or /model_weights)`);
    }
    const layerNames = stringList(root, 'layer_names')!;
    const layers = new Map<string, H5Weight[]>();
    for (const name of layerNames) {
      const g = root.get(name);
      if (!(g instanceof lib.Group)) throw new Error(`${file}: layer '${name}' is listed in layer_names but has no group`);
      const weights = (stringList(g, 'weight_names') ?? []).map((wn): H5Weight => {
        const ds = g.get(wn);
        if (!(ds instanceof lib.Dataset)) throw new Error(`${file}: layer '${name}' lists weight '${wn}' but has no such dataset`);
        return { name: wn, shape: ds.shape ?? [], dtype: String(ds.dtype), read: () => toFloat32(ds, `${file}: ${name}/${wn}`) };
      });
      layers.set(name, weights);
    }
    const attr = (k: string) => {
      const v = stringList(f, k) ?? (root !== f ? stringList(root, k) : undefined);
      return v?.[0];
    };
    return { file, layerNames, layers, kerasVersion: attr('keras_version'), backend: attr('backend'), close: () => void f.close() };
  } catch (err) {
    f.close();
    throw err;
  }
}

/** A string-list attribute (Keras' `load_attributes_from_hdf5_group`: `name`, or `name0`, `name1`, ...). */
function stringList(g: Group, name: string): string[] | undefined {
  const attrs = g.attrs;
  const one = (k: string): string[] => {
    const v = attrs[k].value;
    if (v === null || v === undefined) return [];
    if (typeof v === 'string') return [v];
    if (ArrayBuffer.isView(v)) {
      if ((v as ArrayLike<number>).length === 0) return []; // h5py writes [] as an empty float array
      if (v instanceof Uint8Array) return [new TextDecoder().decode(v).replace(/\0+$/, '')];
    }
    if (Array.isArray(v)) return v.map((s) => String(s).replace(/[\0 ]+$/, ''));
    throw new Error(`attribute '${k}' of ${g.path} is not a list of strings`);
  };
  if (name in attrs) return one(name);
  if (!(`${name}0` in attrs)) return undefined;
  const out: string[] = [];
  for (let i = 0; `${name}${i}` in attrs; i++) out.push(...one(`${name}${i}`));
  return out;
}

function toFloat32(ds: Dataset, what: string): Float32Array {
  const meta = ds.metadata;
  const v = ds.value;
  if (meta.type === 1 && meta.size === 2) {
    // float16: h5wasm hands back the raw 16-bit words
    const bits = v instanceof Uint16Array ? v : new Uint16Array((v as Uint8Array).buffer, (v as Uint8Array).byteOffset, (v as Uint8Array).byteLength / 2);
    return Float32Array.from(bits, halfToFloat);
  }
  if (v instanceof Float32Array) return v;
  if (typeof v === 'number') return Float32Array.of(v);
  if (typeof v === 'bigint') return Float32Array.of(Number(v));
  if (v instanceof BigInt64Array || v instanceof BigUint64Array) return Float32Array.from(v, (x) => Number(x));
  if (ArrayBuffer.isView(v)) return Float32Array.from(v as unknown as ArrayLike<number>);
  throw new Error(`${what}: unsupported dataset type ${String(ds.dtype)}`);
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

// ---------------------------------------------------------------------------------------------------

export interface H5LayerToWrite {
  name: string;
  weights: { name: string; shape: number[]; data: Float32Array | BigInt64Array }[];
}

/**
 * Write a Keras 2 weights file (what `save_weights_to_hdf5_group` writes: root attrs layer_names,
 * backend, keras_version; a group per layer with attr weight_names and a dataset per weight name, a name
 * with '/' making nested groups). Float32Array -> float32 datasets, BigInt64Array -> int64 (Keras'
 * Normalization `count`); a shape [] is a scalar dataset.
 */
export async function writeKerasH5(file: string, layers: H5LayerToWrite[], opts: { kerasVersion?: string } = {}): Promise<void> {
  const lib = await h5wasm();
  const f = new lib.File(path.resolve(file), 'w');
  try {
    stringAttr(f, 'layer_names', layers.map((l) => l.name));
    f.create_attribute('backend', 'tensorflow');
    f.create_attribute('keras_version', opts.kerasVersion ?? '2.13.1');
    for (const layer of [...layers].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const g = f.create_group(layer.name);
      stringAttr(g, 'weight_names', layer.weights.map((w) => w.name));
      for (const w of layer.weights) {
        const parts = w.name.split('/');
        let at: Group = g;
        for (const p of parts.slice(0, -1)) {
          const existing = at.get(p);
          at = existing instanceof lib.Group ? existing : at.create_group(p);
        }
        const size = w.shape.reduce((a, b) => a * b, 1);
        if (w.data.length !== size) throw new Error(`writeKerasH5: ${layer.name}/${w.name} has ${w.data.length} values for shape [${w.shape}]`);
        at.create_dataset({ name: parts[parts.length - 1], data: w.data, shape: w.shape, dtype: w.data instanceof BigInt64Array ? '<q' : '<f' });
      }
    }
  } finally {
    f.close();
  }
}

/** A fixed-length byte-string array attribute, as h5py stores numpy 'S' arrays (an empty list: empty array). */
function stringAttr(g: Group, name: string, values: string[]): void {
  if (!values.length) {
    g.create_attribute(name, new Float64Array(0), [0], '<d');
    return;
  }
  const width = Math.max(...values.map((v) => Buffer.byteLength(v))) + 1;
  g.create_attribute(name, values, [values.length], `A${width}`);
}
