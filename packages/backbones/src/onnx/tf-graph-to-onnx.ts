/**
 * TF graph -> ONNX for graph-model backbones (a TF.js graph model's GraphDef, e.g. the CenterNet detector's
 * MobileNetV3 trunk): walks back from the cut node to the input placeholder and emits the ops a grappler-
 * optimised conv trunk is made of: _FusedConv2D and FusedDepthwiseConv2dNative (BiasAdd, then Relu/Relu6),
 * Conv2D, DepthwiseConv2dNative, Add/AddV2/Sub/Mul (with scalar, per-channel or tensor operands), Relu,
 * Relu6, Sigmoid, Mean over the spatial axes (squeeze-excite). Anything else stops the conversion, naming the
 * node. Layout as in keras-to-onnx.ts: NHWC image in, one transpose to NCHW, features [N, h*w, D] out.
 * TF's SAME padding is ONNX's SAME_UPPER (the extra row/column goes at the end). The cut's map may be average-
 * pooled k x k (a coarser grid: fewer locations for the decoder to attend over).
 */
import onnxProto from 'onnx-proto';
import type { onnx as P } from 'onnx-proto';
import { GraphBuilder, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME, valueInfo } from './graph.ts';
import { ONNX_IR_VERSION, ONNX_OPSET } from './keras-to-onnx.ts';
import { hwioToOihw } from './layers/conv.ts';

const { onnx } = onnxProto;

/** A GraphDef node as a TF.js model.json stores it (attribute values in protobuf JSON form). */
export interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, { s?: string; i?: string; f?: number; b?: boolean; list?: { i?: string[]; s?: string[] }; shape?: unknown; type?: unknown }>;
}

export interface TfConst { shape: number[]; values: Float32Array | Int32Array }

export interface TfGraphCut {
  nodes: TfNode[];
  consts: Map<string, TfConst>;   // every Const node's value
  input: string;                  // the image placeholder
  output: string;                 // the cut node
  inputScale: number;             // pipeline pixels [0,1] -> what the graph expects (255: 0..255)
  channels: number;               // D of the cut node
  pool: number;                   // average-pool the cut's map k x k, stride k (1: as is)
  name: string;
}

/** Bump when the emitted graph changes for the same TF graph. */
export const TF_GRAPH_CONVERTER_VERSION = 1;

export function buildOnnxFromTfGraph(cut: TfGraphCut): Uint8Array {
  const g = new GraphBuilder();
  let last = new TfGraphConverter(cut, g).emit(cut.output);
  if (cut.pool > 1) last = g.node('AveragePool', [last], { kernel_shape: [cut.pool, cut.pool], strides: [cut.pool, cut.pool] }, 'features_pool');
  const nhwc = g.node('Transpose', [last], { perm: [0, 2, 3, 1] }, 'features_nhwc');
  g.node('Reshape', [nhwc, g.constI64('features_shape', [3], [0, -1, cut.channels])], {}, ONNX_OUTPUT_NAME);
  const graph: P.IGraphProto = {
    name: `${cut.name}:${cut.output}`,
    node: g.nodes,
    initializer: g.initializers,
    input: [valueInfo(ONNX_INPUT_NAME, ['N', 'H', 'W', 3])],
    output: [valueInfo(ONNX_OUTPUT_NAME, ['N', 'L', cut.channels])],
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: '@caption/backbones tf-graph-to-onnx',
    producerVersion: String(TF_GRAPH_CONVERTER_VERSION),
    graph,
    metadataProps: [{ key: 'tf_graph', value: cut.name }, { key: 'cut_node', value: cut.output }],
  })).finish();
}

/** Emits the ONNX nodes of TF nodes on demand, each once, inputs first. */
class TfGraphConverter {
  private readonly byName: Map<string, TfNode>;
  private readonly emitted = new Map<string, string>();

  constructor(private readonly cut: TfGraphCut, private readonly g: GraphBuilder) {
    this.byName = new Map(cut.nodes.map((n) => [n.name, n]));
  }

  /** The ONNX tensor holding TF node `name`'s output. */
  emit(name: string): string {
    const done = this.emitted.get(name);
    if (done) return done;
    const node = this.byName.get(name);
    if (!node) throw new Error(`tf-graph-to-onnx: the graph has no node '${name}'`);
    const out = this.convert(node);
    this.emitted.set(name, out);
    return out;
  }

  private convert(node: TfNode): string {
    const { g, cut } = this;
    const ins = node.input ?? [];
    const id = safe(node.name);
    const input = () => this.emit(bare(ins[0]));
    switch (node.op) {
      case 'Placeholder': {
        if (node.name !== cut.input) throw new Error(`tf-graph-to-onnx: '${cut.output}' depends on placeholder '${node.name}', not the image input '${cut.input}'`);
        const nchw = g.node('Transpose', [ONNX_INPUT_NAME], { perm: [0, 3, 1, 2] }, 'image_nchw');
        return cut.inputScale === 1 ? nchw : g.node('Mul', [nchw, g.constF32('input_scale', [], [cut.inputScale])], {}, 'image_scaled');
      }
      case 'Identity':
        return input();
      case '_FusedConv2D':
      case 'FusedDepthwiseConv2dNative':
      case 'Conv2D':
      case 'DepthwiseConv2dNative':
        return this.conv(node, id);
      case 'Add':
      case 'AddV2':
      case 'Sub':
      case 'Mul':
        return g.node(node.op === 'AddV2' ? 'Add' : node.op, [this.operand(ins[0]), this.operand(ins[1])], {}, id);
      case 'Relu':
      case 'Sigmoid':
        return g.node(node.op, [input()], {}, id);
      case 'Relu6':
        return this.relu6(input(), id);
      case 'Mean': {
        const axes = [...constOf(cut, bare(ins[1])).values].sort();
        if (axes.join() !== '1,2' || !node.attr?.keep_dims?.b) throw new Error(`tf-graph-to-onnx: '${node.name}': only a spatial mean with keep_dims is supported (axes ${axes})`);
        return g.node('ReduceMean', [input()], { axes: [2, 3], keepdims: 1 }, id);
      }
      default:
        throw new Error(`tf-graph-to-onnx: node '${node.name}' has op ${node.op}, which the converter does not support`);
    }
  }

  /** An elementwise operand: a node's output, or a constant ([] stays a scalar; [C], [1,1,1,C] -> [1,C,1,1]). */
  private operand(ref: string): string {
    const name = bare(ref);
    if (this.byName.get(name)?.op !== 'Const') return this.emit(name);
    const c = constOf(this.cut, name);
    const size = c.values.length;
    if (size !== 1 && c.shape.slice(0, -1).some((d) => d !== 1)) throw new Error(`tf-graph-to-onnx: constant '${name}' [${c.shape}] is neither a scalar nor per-channel`);
    return this.g.constF32(safe(name), size === 1 ? [] : [1, size, 1, 1], Float32Array.from(c.values));
  }

  private relu6(x: string, id: string): string {
    return this.g.node('Clip', [x, this.g.constF32(`${id}_min`, [], [0]), this.g.constF32(`${id}_max`, [], [6])], {}, id);
  }

  /** A (fused) convolution: ONNX Conv (depthwise = grouped), its bias, then its fused Relu/Relu6. */
  private conv(node: TfNode, id: string): string {
    const { g, cut } = this;
    const ins = node.input ?? [];
    const depthwise = node.op.includes('Depthwise');
    const kernel = constOf(cut, bare(ins[1]));
    const [kh, kw, cin, m] = kernel.shape;
    const cout = depthwise ? cin * m : m;
    const w = g.constF32(`${id}_W`, [cout, depthwise ? 1 : cin, kh, kw], hwioToOihw(Float32Array.from(kernel.values), kh, kw, depthwise ? 1 : cin, cout));
    const inputs = [this.emit(bare(ins[0])), w];
    const fused = (node.attr?.fused_ops?.list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString());
    if (fused.length && fused[0] !== 'BiasAdd') throw new Error(`tf-graph-to-onnx: '${node.name}' fuses ${fused.join('+')}; only BiasAdd[+Relu|Relu6] is supported`);
    if (fused[0] === 'BiasAdd') inputs.push(g.constF32(`${id}_B`, [cout], Float32Array.from(constOf(cut, bare(ins[2])).values)));
    const strides = ints(node, 'strides', [1, 1, 1, 1]);
    const dilations = ints(node, 'dilations', [1, 1, 1, 1]);
    const padding = Buffer.from(node.attr?.padding?.s ?? '', 'base64').toString();
    if (padding !== 'SAME' && padding !== 'VALID') throw new Error(`tf-graph-to-onnx: '${node.name}' has padding '${padding}'`);
    const attrs = {
      kernel_shape: [kh, kw],
      group: depthwise ? cin : 1,
      strides: [strides[1], strides[2]],
      dilations: [dilations[1], dilations[2]],
      auto_pad: padding === 'SAME' ? 'SAME_UPPER' : 'VALID',
    };
    const activation = fused[1];
    const out = g.node('Conv', inputs, attrs, activation ? `${id}_conv` : id);
    if (!activation) return out;
    if (activation === 'Relu') return g.node('Relu', [out], {}, id);
    if (activation === 'Relu6') return this.relu6(out, id);
    throw new Error(`tf-graph-to-onnx: '${node.name}' fuses activation ${activation}`);
  }
}

function constOf(cut: TfGraphCut, name: string): TfConst {
  const c = cut.consts.get(name);
  if (!c) throw new Error(`tf-graph-to-onnx: no value for constant '${name}'`);
  return c;
}

function ints(node: TfNode, key: string, fallback: number[]): number[] {
  const list = node.attr?.[key]?.list?.i;
  return list?.length ? list.map(Number) : fallback;
}

/** 'x:0' and control inputs '^x' name node x. */
const bare = (ref: string) => ref.replace(/^\^/, '').split(':')[0];
const safe = (name: string) => name.replace(/[^A-Za-z0-9_]/g, '_');
