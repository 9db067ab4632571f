/**
 * The ONNX emitting side of the converter, kept apart from anything Keras: layer converters only ever ask
 * for "a node with this op" or "a constant with these values", and this module makes the names unique
 * (ONNX requires it, Keras layer names collide with our derived ones) and encodes tensors and attributes
 * the way ONNX Runtime expects (raw little-endian data, typed attributes).
 */
import onnxProto from 'onnx-proto';
import type { onnx as P } from 'onnx-proto';

const { onnx } = onnxProto;
const AttrType = onnx.AttributeProto.AttributeType;
const DataType = onnx.TensorProto.DataType;

export const ONNX_INPUT_NAME = 'image';
export const ONNX_OUTPUT_NAME = 'features';

export type AttrValue = number | number[] | string | { float: number };

export class GraphBuilder {
  readonly nodes: P.INodeProto[] = [];
  readonly initializers: P.ITensorProto[] = [];
  private readonly used = new Set<string>([ONNX_INPUT_NAME, ONNX_OUTPUT_NAME]);

  private unique(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Add a node with one output; returns the output tensor name (`name`, made unique). */
  node(opType: string, inputs: string[], attrs: Record<string, AttrValue>, name: string): string {
    const out = name === ONNX_OUTPUT_NAME ? name : this.unique(name);
    this.nodes.push({
      name: out,
      opType,
      input: inputs,
      output: [out],
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return out;
  }

  constF32(name: string, dims: number[], values: ArrayLike<number>): string {
    // a Float32Array is used as is (the weights are copies already; VGG16's fc1 alone is 400 MB)
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    const size = dims.reduce((a, b) => a * b, 1);
    if (data.length !== size) throw new Error(`keras-to-onnx: constant '${name}' has ${data.length} values for shape [${dims.join(', ')}]`);
    const n = this.unique(name);
    this.initializers.push({ name: n, dims, dataType: DataType.FLOAT, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    return n;
  }

  constI64(name: string, dims: number[], values: number[]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    const n = this.unique(name);
    this.initializers.push({ name: n, dims, dataType: DataType.INT64, rawData: new Uint8Array(data.buffer) });
    return n;
  }
}

/** A float32 graph input/output; a string dim is symbolic (dimParam). */
export function valueInfo(name: string, dims: (number | string)[]): P.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, v: AttrValue): P.IAttributeProto {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`keras-to-onnx: attribute ${name}=${v} must be an integer (wrap floats as { float })`);
    return { name, type: AttrType.INT, i: v };
  }
  if (typeof v === 'string') return { name, type: AttrType.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: AttrType.INTS, ints: v };
  return { name, type: AttrType.FLOAT, f: v.float };
}
