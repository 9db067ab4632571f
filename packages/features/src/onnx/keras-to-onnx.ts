/**
 * Keras (TF.js LayersModel) -> ONNX converter for the CNN backbones the features stage uses.
 *
 * Walks the functional topology backwards from the cut layer to the (single) input layer, converts each
 * layer with its weights, and emits an ONNX ModelProto (IR 8, opset 17):
 *   image [N, H, W, C] float32 (NHWC, like the Keras input) -> Transpose to NCHW once -> layers -> features
 *   [N, L, D]: a 4-D cut (feature map) is transposed back to NHWC and reshaped to [N, h*w, D]; a 2-D cut
 *   (a vector: Dense, global pooling, Flatten) becomes [N, 1, D]; a 3-D cut [N, L, D] is kept.
 * Layout inside the graph: every 4-D tensor is NCHW; 2-D and 3-D tensors keep the Keras layout. Layers that
 * change rank (Flatten, Reshape, Dense on a feature map) go through NHWC, so Keras' element order (Flatten of
 * NHWC: row, column, channel) is kept exactly.
 * Supported (SUPPORTED_LAYERS): Conv2D, DepthwiseConv2D, SeparableConv2D (same/valid, strides, dilation,
 * bias, fused activation), BatchNormalization (channel axis of 4-D or 2-D tensors; scale/center flags),
 * Activation, ReLU (max_value -> Clip), LeakyReLU, ELU, ThresholdedReLU, Softmax, ZeroPadding2D, Cropping2D,
 * MaxPooling2D, AveragePooling2D (same excludes the padding, like TF), GlobalAveragePooling2D /
 * GlobalMaxPooling2D (keepdims or not), Flatten, Reshape, Dense (2-D, 3-D and 4-D inputs), Concatenate, Add,
 * Multiply, Maximum, Minimum, Average (numpy broadcasting between inputs of one rank, e.g. the
 * squeeze-excite [N,H,W,C] x [N,1,1,C]), Rescaling (scalar or per-channel scale/offset), Normalization
 * (Keras' preprocessing layer: (x - mean) / max(sqrt(variance), 1e-7)), ChannelAffine (the pipeline's input
 * transform: channel reorder, per-channel scale and offset), and the inference-time identities (Dropout,
 * SpatialDropout2D, Gaussian*, AlphaDropout). Activations: linear, relu, relu6, sigmoid, tanh, softmax,
 * log_softmax, elu, selu, softplus, softsign, hard_sigmoid, swish (x * sigmoid(x)), gelu, mish.
 * BatchNormalization is emitted as an ONNX BatchNormalization op; ONNX Runtime folds it into the
 * preceding Conv itself (and fuses the following Relu/Clip) at graph optimisation time.
 */
import onnxProto from 'onnx-proto';
import type { onnx as P } from 'onnx-proto';
import type { tf } from '@caption/core/tf';

const { onnx } = onnxProto;
const AttrType = onnx.AttributeProto.AttributeType;
const DataType = onnx.TensorProto.DataType;

/** Bump when the emitted graph changes for the same Keras model (callers caching .onnx files key on it). */
export const CONVERTER_VERSION = 2;
export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;
export const ONNX_INPUT_NAME = 'image';
export const ONNX_OUTPUT_NAME = 'features';

type Layer = tf.layers.Layer;
type Shape = (number | null)[];
type AttrValue = number | number[] | string | { float: number };

/** The parts of a TF.js topology Node the converter reads (not exported by @tensorflow/tfjs). */
interface KerasNode {
  inboundLayers: Layer[];
  nodeIndices: number[];
  tensorIndices: number[];
  inputShapes: Shape | Shape[];
  outputShapes: Shape | Shape[];
}

/** Convert `model` from its input up to (and including) `cutLayer` into serialized ONNX ModelProto bytes. */
export function buildOnnxGraph(model: tf.LayersModel, cutLayer: string): Uint8Array {
  let cut: Layer;
  try {
    cut = model.getLayer(cutLayer);
  } catch {
    throw new Error(`keras-to-onnx: model '${model.name}' has no layer '${cutLayer}'`);
  }
  const g = new GraphBuilder();
  const emitted = new Map<Layer, string>(); // layer -> ONNX tensor (NCHW) holding its output
  let inputLayer: Layer | undefined;

  const visit = (layer: Layer, path: Set<Layer>): string => {
    const done = emitted.get(layer);
    if (done !== undefined) return done;
    if (path.has(layer)) throw new Error(`keras-to-onnx: cycle through layer '${layer.name}'`);
    const cls = layer.getClassName();
    let out: string;
    if (cls === 'InputLayer') {
      if (inputLayer && inputLayer !== layer) {
        throw new Error(`keras-to-onnx: '${cutLayer}' depends on more than one input ('${inputLayer.name}', '${layer.name}')`);
      }
      inputLayer = layer;
      out = g.node('Transpose', [ONNX_INPUT_NAME], { perm: [0, 3, 1, 2] }, `${layer.name}_nchw`);
    } else {
      const node = soleInboundNode(layer);
      path.add(layer);
      const inputs = node.inboundLayers.map((l, i) => {
        if (node.tensorIndices[i] !== 0 || node.nodeIndices[i] !== 0) {
          throw new Error(`keras-to-onnx: layer '${layer.name}' (${cls}) reads output ${node.tensorIndices[i]} of node ${node.nodeIndices[i]} of '${l.name}'; only single-output, unshared layers are supported`);
        }
        return visit(l, path);
      });
      path.delete(layer);
      const inShapes = shapeList(node.inputShapes);
      const outShape = shapeList(node.outputShapes)[0];
      for (const s of [...inShapes, outShape]) {
        if (s.length < 2 || s.length > 4) {
          throw new Error(`keras-to-onnx: layer '${layer.name}' (${cls}) has a ${s.length}-D tensor [${s.join(', ')}]; only 2-D, 3-D and 4-D (NHWC) tensors are supported`);
        }
      }
      const convert = CONVERTERS[cls];
      if (!convert) {
        throw new Error(`keras-to-onnx: unsupported layer '${layer.name}' of class ${cls} (supported: ${Object.keys(CONVERTERS).sort().join(', ')})`);
      }
      out = convert({ g, layer, cls, config: layer.getConfig() as Config, inputs, inShapes, outShape });
    }
    emitted.set(layer, out);
    return out;
  };

  const last = visit(cut, new Set());
  if (!inputLayer) throw new Error(`keras-to-onnx: layer '${cutLayer}' is not connected to an input layer`);

  const inShape = soleInboundShape(inputLayer);
  const outShape = cut.getClassName() === 'InputLayer' ? inShape : shapeList(soleInboundNode(cut).outputShapes)[0];
  const d = outShape[outShape.length - 1];
  if (d === null) throw new Error(`keras-to-onnx: channel count of '${cutLayer}' is unknown`);
  const spatial = outShape.slice(1, -1);
  const L = spatial.every((v) => v !== null) ? (spatial as number[]).reduce((a, b) => a * b, 1) : 'L';
  const keras = outShape.length === 4 ? g.node('Transpose', [last], { perm: [0, 2, 3, 1] }, `${cutLayer}_nhwc`) : last;
  g.node('Reshape', [keras, g.constI64('features_shape', [3], [0, -1, d])], {}, ONNX_OUTPUT_NAME);

  const graph: P.IGraphProto = {
    name: `${model.name}:${cutLayer}`,
    node: g.nodes,
    initializer: g.initializers,
    input: [valueInfo(ONNX_INPUT_NAME, ['N', inShape[1] ?? 'H', inShape[2] ?? 'W', inShape[3] ?? 'C'])],
    output: [valueInfo(ONNX_OUTPUT_NAME, ['N', L, d])],
  };
  const proto: P.IModelProto = {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: '@caption/features keras-to-onnx',
    producerVersion: String(CONVERTER_VERSION),
    graph,
    metadataProps: [
      { key: 'keras_model', value: model.name },
      { key: 'cut_layer', value: cutLayer },
      { key: 'layout', value: 'input NHWC float32; output [N, L, D] (L = h*w of a feature map, 1 for a vector)' },
    ],
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(proto)).finish();
}

// ---------------------------------------------------------------------------------------------------
// Layer converters. Every tensor is NCHW inside the graph; Keras shapes (inShapes/outShape) are NHWC.

type Config = Record<string, unknown>;
interface Ctx {
  g: GraphBuilder;
  layer: Layer;
  cls: string;
  config: Config;
  inputs: string[];
  inShapes: Shape[];
  outShape: Shape;
}
type Converter = (c: Ctx) => string;

const identity: Converter = (c) => one(c);

const CONVERTERS: Record<string, Converter> = {
  Conv2D: (c) => {
    checkChannelsLast(c);
    const [kh, kw] = pair(c, 'kernelSize');
    const groups = c.config.groups;
    if (groups !== undefined && groups !== 1) fail(c, `groups=${String(groups)} is not supported`);
    const wts = weights(c);
    const kernel = need(c, wts, 'kernel'); // [kh, kw, cin, cout]
    const [, , cin, cout] = kernel.shape;
    const w = c.g.constF32(`${c.layer.name}_W`, [cout, cin, kh, kw], hwioToOihw(kernel.data, kh, kw, cin, cout));
    const ins = [one(c), w];
    if (c.config.useBias) ins.push(c.g.constF32(`${c.layer.name}_B`, [cout], need(c, wts, 'bias').data));
    const conv = c.g.node('Conv', ins, { kernel_shape: [kh, kw], group: 1, ...convAttrs(c, kh, kw) }, c.layer.name + (hasActivation(c) ? '_conv' : ''));
    return activation(c, conv, c.config.activation);
  },

  DepthwiseConv2D: (c) => {
    checkChannelsLast(c);
    const [kh, kw] = pair(c, 'kernelSize');
    const wts = weights(c);
    const kernel = need(c, wts, 'depthwise_kernel'); // [kh, kw, C, m]
    const [, , ch, mult] = kernel.shape;
    const w = c.g.constF32(`${c.layer.name}_W`, [ch * mult, 1, kh, kw], hwioToOihw(kernel.data, kh, kw, 1, ch * mult));
    const ins = [one(c), w];
    if (c.config.useBias) ins.push(c.g.constF32(`${c.layer.name}_B`, [ch * mult], need(c, wts, 'bias').data));
    const conv = c.g.node('Conv', ins, { kernel_shape: [kh, kw], group: ch, ...convAttrs(c, kh, kw) }, c.layer.name + (hasActivation(c) ? '_conv' : ''));
    return activation(c, conv, c.config.activation);
  },

  SeparableConv2D: (c) => {
    checkChannelsLast(c);
    const [kh, kw] = pair(c, 'kernelSize');
    const wts = weights(c);
    const dk = need(c, wts, 'depthwise_kernel'); // [kh, kw, C, m]
    const pk = need(c, wts, 'pointwise_kernel'); // [1, 1, C*m, F]
    const [, , ch, mult] = dk.shape;
    const f = pk.shape[3];
    const dw = c.g.constF32(`${c.layer.name}_DW`, [ch * mult, 1, kh, kw], hwioToOihw(dk.data, kh, kw, 1, ch * mult));
    const depth = c.g.node('Conv', [one(c), dw], { kernel_shape: [kh, kw], group: ch, ...convAttrs(c, kh, kw) }, `${c.layer.name}_depthwise`);
    const pw = c.g.constF32(`${c.layer.name}_PW`, [f, ch * mult, 1, 1], hwioToOihw(pk.data, 1, 1, ch * mult, f));
    const ins = [depth, pw];
    if (c.config.useBias) ins.push(c.g.constF32(`${c.layer.name}_B`, [f], need(c, wts, 'bias').data));
    const conv = c.g.node('Conv', ins, { kernel_shape: [1, 1] }, c.layer.name + (hasActivation(c) ? '_conv' : ''));
    return activation(c, conv, c.config.activation);
  },

  BatchNormalization: (c) => {
    const rank = c.outShape.length;
    const axis = Number(c.config.axis);
    if (rank === 3) fail(c, 'a 3-D input is not supported (ONNX BatchNormalization normalizes axis 1)');
    if (axis !== -1 && axis !== rank - 1) fail(c, `axis=${axis}: only the channel axis (-1 / ${rank - 1}) is supported`);
    const ch = c.outShape[rank - 1];
    if (ch === null) fail(c, 'unknown channel count');
    const wts = weights(c);
    const n = ch as number;
    const gamma = c.config.scale === false ? new Float32Array(n).fill(1) : need(c, wts, 'gamma').data;
    const beta = c.config.center === false ? new Float32Array(n) : need(c, wts, 'beta').data;
    const name = c.layer.name;
    return c.g.node(
      'BatchNormalization',
      [
        one(c),
        c.g.constF32(`${name}_scale`, [n], gamma),
        c.g.constF32(`${name}_B`, [n], beta),
        c.g.constF32(`${name}_mean`, [n], need(c, wts, 'moving_mean').data),
        c.g.constF32(`${name}_var`, [n], need(c, wts, 'moving_variance').data),
      ],
      { epsilon: { float: Number(c.config.epsilon) } },
      name,
    );
  },

  Activation: (c) => activation(c, one(c), c.config.activation, c.layer.name),

  ReLU: (c) => {
    const max = c.config.maxValue;
    if (max === null || max === undefined) return c.g.node('Relu', [one(c)], {}, c.layer.name);
    return clip(c.g, one(c), 0, Number(max), c.layer.name);
  },
  LeakyReLU: (c) => c.g.node('LeakyRelu', [one(c)], { alpha: { float: Number(c.config.alpha ?? 0.3) } }, c.layer.name),
  ELU: (c) => c.g.node('Elu', [one(c)], { alpha: { float: Number(c.config.alpha ?? 1) } }, c.layer.name),
  ThresholdedReLU: (c) => c.g.node('ThresholdedRelu', [one(c)], { alpha: { float: Number(c.config.theta ?? 1) } }, c.layer.name),
  Softmax: (c) => c.g.node('Softmax', [one(c)], { axis: graphAxis(c, Number(c.config.axis ?? -1)) }, c.layer.name),

  ZeroPadding2D: (c) => {
    checkChannelsLast(c);
    const [[t, b], [l, r]] = c.config.padding as [[number, number], [number, number]];
    const pads = c.g.constI64(`${c.layer.name}_pads`, [8], [0, 0, t, l, 0, 0, b, r]);
    return c.g.node('Pad', [one(c), pads], { mode: 'constant' }, c.layer.name);
  },

  Cropping2D: (c) => {
    checkChannelsLast(c);
    const [[t, b], [l, r]] = c.config.cropping as [[number, number], [number, number]];
    const [, h, w] = c.inShapes[0];
    if (h === null || w === null) fail(c, 'cropping needs static spatial sizes');
    const n = c.layer.name;
    const starts = c.g.constI64(`${n}_starts`, [2], [t, l]);
    const ends = c.g.constI64(`${n}_ends`, [2], [(h as number) - b, (w as number) - r]);
    const axes = c.g.constI64(`${n}_axes`, [2], [2, 3]);
    return c.g.node('Slice', [one(c), starts, ends, axes], {}, n);
  },

  MaxPooling2D: (c) => pool(c, 'MaxPool'),
  AveragePooling2D: (c) => pool(c, 'AveragePool'),

  Concatenate: (c) => {
    sameRanks(c);
    return c.g.node('Concat', c.inputs, { axis: graphAxis(c, Number(c.config.axis ?? -1)) }, c.layer.name);
  },
  Add: (c) => variadic(c, 'Add', 'Sum'),
  Multiply: (c) => variadic(c, 'Mul'),
  Maximum: (c) => variadic(c, 'Max', 'Max'),
  Minimum: (c) => variadic(c, 'Min', 'Min'),
  Average: (c) => variadic(c, 'Mean', 'Mean'),

  Rescaling: (c) => {
    const n = c.layer.name;
    const scaled = c.g.node('Mul', [one(c), channelConst(c, `${n}_scale`, c.config.scale)], {}, `${n}_mul`);
    return c.g.node('Add', [scaled, channelConst(c, `${n}_offset`, c.config.offset ?? 0)], {}, n);
  },

  /** Keras Normalization: (x - mean) / max(sqrt(variance), 1e-7), the statistics folded into constants. */
  Normalization: (c) => {
    const n = c.layer.name;
    const layer = c.layer as unknown as { statistics?: () => { mean: Float32Array; denominator: Float32Array } };
    if (typeof layer.statistics !== 'function') fail(c, 'not the Normalization layer of architectures/layers.ts');
    const { mean, denominator } = layer.statistics();
    const centered = c.g.node('Sub', [one(c), channelConst(c, `${n}_mean`, Array.from(mean))], {}, `${n}_sub`);
    return c.g.node('Div', [centered, channelConst(c, `${n}_denominator`, Array.from(denominator))], {}, n);
  },

  /** The pipeline's input transform (architectures/layers.ts): y[c] = x[source[c]] * scale[c] + offset[c]. */
  ChannelAffine: (c) => {
    const n = c.layer.name;
    let x = one(c);
    const source = c.config.source as number[] | null | undefined;
    if (source && source.some((v, i) => v !== i)) {
      x = c.g.node('Gather', [x, c.g.constI64(`${n}_source`, [source.length], source)], { axis: graphAxis(c, -1) }, `${n}_gather`);
    }
    const scaled = c.g.node('Mul', [x, channelConst(c, `${n}_scale`, c.config.scale)], {}, `${n}_mul`);
    return c.g.node('Add', [scaled, channelConst(c, `${n}_offset`, c.config.offset ?? 0)], {}, n);
  },

  GlobalAveragePooling2D: (c) => globalPool(c, 'ReduceMean'),
  GlobalMaxPooling2D: (c) => globalPool(c, 'ReduceMax'),

  /** Keras Flatten of NHWC: (row, column, channel) order, so a feature map goes through NHWC first. */
  Flatten: (c) => {
    const f = c.config.dataFormat;
    if (f !== undefined && f !== null && f !== 'channelsLast') fail(c, `dataFormat=${String(f)}: only channelsLast is supported`);
    if (c.inShapes[0].length === 2) return c.g.node('Identity', [one(c)], {}, c.layer.name);
    return c.g.node('Reshape', [toKeras(c, one(c)), c.g.constI64(`${c.layer.name}_shape`, [2], [0, -1])], {}, c.layer.name);
  },

  Reshape: (c) => {
    const given = c.config.targetShape as (number | null)[];
    if (!Array.isArray(given)) fail(c, `unexpected targetShape=${JSON.stringify(given)}`);
    const target = given.map((d) => (d === null || d === undefined ? -1 : d)); // TF.js keeps Keras' -1 as null
    const n = c.layer.name;
    const out = c.outShape.length === 4 ? `${n}_nhwc` : n;
    const reshaped = c.g.node('Reshape', [toKeras(c, one(c)), c.g.constI64(`${n}_shape`, [target.length + 1], [0, ...target])], {}, out);
    return fromKeras(c, reshaped, n);
  },

  /** Dense on the last axis: Gemm for [N, D]; MatMul + Add otherwise (a feature map in NHWC). */
  Dense: (c) => {
    const wts = weights(c);
    const kernel = need(c, wts, 'kernel'); // [in, units]
    const [din, units] = kernel.shape;
    const n = c.layer.name;
    const act = hasActivation(c);
    const W = c.g.constF32(`${n}_W`, [din, units], kernel.data);
    const B = c.config.useBias ? c.g.constF32(`${n}_B`, [units], need(c, wts, 'bias').data) : undefined;
    let y: string;
    if (c.inShapes[0].length === 2) {
      y = c.g.node('Gemm', B ? [one(c), W, B] : [one(c), W], {}, act ? `${n}_dense` : n);
    } else {
      const mm = c.g.node('MatMul', [toKeras(c, one(c)), W], {}, B || act || c.outShape.length === 4 ? `${n}_matmul` : n);
      y = B ? c.g.node('Add', [mm, B], {}, act || c.outShape.length === 4 ? `${n}_bias` : n) : mm;
      if (c.outShape.length === 4) y = fromKeras(c, y, act ? `${n}_nchw` : n);
    }
    return activation(c, y, c.config.activation);
  },

  // inference-time identities
  Dropout: identity,
  SpatialDropout2D: identity,
  GaussianNoise: identity,
  GaussianDropout: identity,
  AlphaDropout: identity,
};

export const SUPPORTED_LAYERS: readonly string[] = ['InputLayer', ...Object.keys(CONVERTERS)].sort();

function fail(c: Ctx, why: string): never {
  throw new Error(`keras-to-onnx: layer '${c.layer.name}' (${c.cls}): ${why}`);
}

function one(c: Ctx): string {
  if (c.inputs.length !== 1) fail(c, `expected 1 input, got ${c.inputs.length}`);
  return c.inputs[0];
}

function checkChannelsLast(c: Ctx): void {
  if (c.inShapes[0].length !== 4) fail(c, `needs a 4-D (NHWC) input, got [${c.inShapes[0].join(', ')}]`);
  const f = c.config.dataFormat;
  if (f !== undefined && f !== 'channelsLast') fail(c, `dataFormat=${String(f)}: only channelsLast is supported`);
}

function pair(c: Ctx, key: string): [number, number] {
  const v = c.config[key];
  const p = typeof v === 'number' ? [v, v] : (v as number[] | undefined);
  if (!Array.isArray(p) || p.length !== 2) fail(c, `unexpected ${key}=${JSON.stringify(v)}`);
  return [Number(p[0]), Number(p[1])];
}

/** Keras axis (negative allowed) of the layer's output -> the axis in the graph (NCHW for 4-D tensors). */
function graphAxis(c: Ctx, axis: number): number {
  const rank = c.outShape.length;
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) fail(c, `axis=${axis} out of range for a ${rank}-D tensor`);
  return rank === 4 ? [0, 2, 3, 1][a] : a;
}

function sameRanks(c: Ctx): void {
  const ranks = new Set([...c.inShapes, c.outShape].map((s) => s.length));
  if (ranks.size > 1) fail(c, `inputs of different ranks [${c.inShapes.map((s) => `[${s.join(', ')}]`).join(', ')}] are not supported`);
}

/**
 * A scalar or per-channel constant that broadcasts against the layer's input in the graph: [] for a
 * scalar, [1, C, 1, 1] for a 4-D (NCHW) tensor, [C] otherwise.
 */
function channelConst(c: Ctx, name: string, value: unknown): string {
  if (typeof value === 'number') return c.g.constF32(name, [], [value]);
  const values = value as number[];
  if (!Array.isArray(values) || values.some((v) => typeof v !== 'number')) fail(c, `${name}: expected a number or a list of numbers, got ${JSON.stringify(value)}`);
  const shape = c.inShapes[0];
  const ch = shape[shape.length - 1];
  if (values.length === 1) return c.g.constF32(name, [], values);
  if (ch !== null && values.length !== ch) fail(c, `${name}: ${values.length} values for ${ch} channels`);
  return c.g.constF32(name, shape.length === 4 ? [1, values.length, 1, 1] : [values.length], values);
}

/** The layer's (first) input in Keras layout: NCHW -> NHWC for a 4-D tensor. */
function toKeras(c: Ctx, x: string): string {
  return c.inShapes[0].length === 4 ? c.g.node('Transpose', [x], { perm: [0, 2, 3, 1] }, `${c.layer.name}_in_nhwc`) : x;
}

/** A result in Keras layout -> the graph's layout (NHWC -> NCHW for a 4-D output), named `name`. */
function fromKeras(c: Ctx, x: string, name: string): string {
  return c.outShape.length === 4 ? c.g.node('Transpose', [x], { perm: [0, 3, 1, 2] }, name) : x;
}

function globalPool(c: Ctx, op: 'ReduceMean' | 'ReduceMax'): string {
  checkChannelsLast(c);
  // keepdims (Keras 2.6+) keeps [N, 1, 1, C] (NCHW [N, C, 1, 1]); otherwise [N, C]
  const keep = c.outShape.length === 4 ? 1 : 0;
  return c.g.node(op, [one(c)], { axes: [2, 3], keepdims: keep }, c.layer.name);
}

/**
 * Padding attributes for TF semantics: `valid` = none; `same` = out = ceil(in / stride) with the total
 * padding split floor/ceil (the extra row/column at the bottom/right), computed from the static input size,
 * or ONNX SAME_UPPER (the same rule) when the spatial size is dynamic.
 */
function padAttrs(c: Ctx, kh: number, kw: number, strides: [number, number], dil: [number, number]): Record<string, AttrValue> {
  const padding = c.config.padding;
  if (padding === 'valid') return {};
  if (padding !== 'same') fail(c, `padding=${JSON.stringify(padding)} is not supported`);
  const [, h, w] = c.inShapes[0];
  if (h === null || w === null) return { auto_pad: 'SAME_UPPER' };
  const total = (size: number, k: number, s: number, d: number) =>
    Math.max((Math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0);
  const th = total(h, kh, strides[0], dil[0]);
  const tw = total(w, kw, strides[1], dil[1]);
  const top = Math.floor(th / 2);
  const left = Math.floor(tw / 2);
  return { pads: [top, left, th - top, tw - left] };
}

function convAttrs(c: Ctx, kh: number, kw: number): Record<string, AttrValue> {
  const strides = pair(c, 'strides');
  const dil = c.config.dilationRate === undefined ? ([1, 1] as [number, number]) : pair(c, 'dilationRate');
  if ((strides[0] > 1 || strides[1] > 1) && (dil[0] > 1 || dil[1] > 1)) fail(c, 'strides > 1 together with dilation > 1');
  return { strides, dilations: dil, ...padAttrs(c, kh, kw, strides, dil) };
}

function pool(c: Ctx, op: 'MaxPool' | 'AveragePool'): string {
  checkChannelsLast(c);
  const [kh, kw] = pair(c, 'poolSize');
  const strides = c.config.strides === null || c.config.strides === undefined ? ([kh, kw] as [number, number]) : pair(c, 'strides');
  const attrs: Record<string, AttrValue> = { kernel_shape: [kh, kw], strides, ...padAttrs(c, kh, kw, strides, [1, 1]) };
  // Keras/TF average pooling with `same` padding averages over the real pixels only.
  if (op === 'AveragePool') attrs.count_include_pad = 0;
  return c.g.node(op, [one(c)], attrs, c.layer.name);
}

/**
 * Elementwise merge: the binary op for 2 inputs, the n-ary op (or a chain of binary ops) for more. ONNX
 * broadcasts like numpy; in NCHW as Keras does in NHWC (e.g. [N, C, H, W] * [N, C, 1, 1]).
 */
function variadic(c: Ctx, binary: string, nary?: string): string {
  if (c.inputs.length < 2) fail(c, `needs at least 2 inputs, got ${c.inputs.length}`);
  sameRanks(c);
  if (c.inputs.length === 2) return c.g.node(binary, c.inputs, {}, c.layer.name);
  if (nary) return c.g.node(nary, c.inputs, {}, c.layer.name);
  let acc = c.inputs[0];
  for (let i = 1; i < c.inputs.length; i++) {
    acc = c.g.node(binary, [acc, c.inputs[i]], {}, i === c.inputs.length - 1 ? c.layer.name : `${c.layer.name}_${i}`);
  }
  return acc;
}

function hasActivation(c: Ctx): boolean {
  const a = c.config.activation;
  return a !== undefined && a !== null && a !== 'linear';
}

/** Keras activation (by its serialized name) applied to `x`; the last node is named `name`. */
function activation(c: Ctx, x: string, act: unknown, name = c.layer.name): string {
  const g = c.g;
  switch (act ?? 'linear') {
    case 'linear':
      return x;
    case 'relu':
      return g.node('Relu', [x], {}, name);
    case 'relu6':
      return clip(g, x, 0, 6, name);
    case 'sigmoid':
      return g.node('Sigmoid', [x], {}, name);
    case 'tanh':
      return g.node('Tanh', [x], {}, name);
    case 'softmax':
      return g.node('Softmax', [x], { axis: graphAxis(c, -1) }, name);
    case 'logSoftmax':
    case 'log_softmax':
      return g.node('LogSoftmax', [x], { axis: graphAxis(c, -1) }, name);
    case 'elu':
      return g.node('Elu', [x], { alpha: { float: 1 } }, name);
    case 'selu':
      return g.node('Selu', [x], {}, name);
    case 'softplus':
      return g.node('Softplus', [x], {}, name);
    case 'softsign':
      return g.node('Softsign', [x], {}, name);
    case 'hardSigmoid':
    case 'hard_sigmoid':
      return g.node('HardSigmoid', [x], { alpha: { float: 0.2 }, beta: { float: 0.5 } }, name);
    case 'swish':
      return g.node('Mul', [x, g.node('Sigmoid', [x], {}, `${name}_sigmoid`)], {}, name);
    case 'gelu': {
      // x * 0.5 * (1 + erf(x / sqrt 2)) (ONNX Gelu needs opset 20)
      const e = g.node('Erf', [g.node('Mul', [x, g.constF32(`${name}_rsqrt2`, [], [Math.SQRT1_2])], {}, `${name}_scaled`)], {}, `${name}_erf`);
      const cdf = g.node('Mul', [g.node('Add', [e, g.constF32(`${name}_one`, [], [1])], {}, `${name}_1p`), g.constF32(`${name}_half`, [], [0.5])], {}, `${name}_cdf`);
      return g.node('Mul', [x, cdf], {}, name);
    }
    case 'mish': {
      const sp = g.node('Softplus', [x], {}, `${name}_softplus`);
      return g.node('Mul', [x, g.node('Tanh', [sp], {}, `${name}_tanh`)], {}, name);
    }
    default:
      return fail(c, `unsupported activation ${JSON.stringify(act)}`);
  }
}

function clip(g: GraphBuilder, x: string, lo: number, hi: number, name: string): string {
  return g.node('Clip', [x, g.constF32(`${name}_min`, [], [lo]), g.constF32(`${name}_max`, [], [hi])], {}, name);
}

// ---------------------------------------------------------------------------------------------------
// Weights and topology helpers

interface Weight {
  shape: number[];
  data: Float32Array;
}

/** The layer's weights keyed by their Keras name (`kernel`, `bias`, `gamma`, `moving_mean`, ...). */
function weights(c: Ctx): Map<string, Weight> {
  const vars = c.layer.weights;
  const values = c.layer.getWeights();
  const out = new Map<string, Weight>();
  vars.forEach((v, i) => {
    const key = (v.originalName ?? v.name).split('/').pop()!.replace(/_\d+$/, '');
    const t = values[i];
    const data = t.dtype === 'float32' ? (t.dataSync() as Float32Array) : Float32Array.from(t.dataSync() as ArrayLike<number>);
    out.set(key, { shape: t.shape, data }); // t is the variable's own tensor: never dispose it
  });
  return out;
}

function need(c: Ctx, wts: Map<string, Weight>, key: string): Weight {
  const w = wts.get(key);
  if (!w) fail(c, `missing weight '${key}' (has: ${[...wts.keys()].join(', ') || 'none'})`);
  return w;
}

/**
 * Keras kernel [kh, kw, I, O] -> ONNX [O, I, kh, kw]. A depthwise kernel [kh, kw, C, m] is the case
 * I = 1, O = C*m: ONNX output channel c*m + j reads kernel[.., c, j], TF's channel order.
 */
function hwioToOihw(src: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const dst = new Float32Array(src.length);
  if (src.length !== kh * kw * cin * cout) throw new Error(`keras-to-onnx: kernel size mismatch (${src.length} vs ${kh}x${kw}x${cin}x${cout})`);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      const base = (y * kw + x) * cin * cout; // src index of [y, x, 0, 0] (same layout for [y, x, C, m])
      for (let i = 0; i < cin; i++) {
        for (let o = 0; o < cout; o++) {
          dst[((o * cin + i) * kh + y) * kw + x] = src[base + i * cout + o];
        }
      }
    }
  }
  return dst;
}

function shapeList(s: Shape | Shape[]): Shape[] {
  return Array.isArray(s[0]) || s.length === 0 ? (s as Shape[]) : [s as Shape];
}

function soleInboundNode(layer: Layer): KerasNode {
  const nodes = (layer as unknown as { inboundNodes: KerasNode[] }).inboundNodes;
  if (nodes.length !== 1) {
    throw new Error(`keras-to-onnx: layer '${layer.name}' (${layer.getClassName()}) has ${nodes.length} inbound nodes; shared layers are not supported`);
  }
  return nodes[0];
}

function soleInboundShape(input: Layer): Shape {
  const s = shapeList(soleInboundNode(input).outputShapes)[0];
  if (s.length !== 4) throw new Error(`keras-to-onnx: input '${input.name}' has shape [${s.join(', ')}]; expected [N, H, W, C]`);
  return s;
}

function valueInfo(name: string, dims: (number | string)[]): P.IValueInfoProto {
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

// ---------------------------------------------------------------------------------------------------

class GraphBuilder {
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

function attribute(name: string, v: AttrValue): P.IAttributeProto {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`keras-to-onnx: attribute ${name}=${v} must be an integer (wrap floats as { float })`);
    return { name, type: AttrType.INT, i: v };
  }
  if (typeof v === 'string') return { name, type: AttrType.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: AttrType.INTS, ints: v };
  return { name, type: AttrType.FLOAT, f: v.float };
}
