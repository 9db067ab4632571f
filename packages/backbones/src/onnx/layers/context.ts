/**
 * What every layer converter is handed, and the checks and layout conversions they share, so that each
 * converter only states its own mapping and all of them reject unsupported configurations with the same
 * kind of message (naming the layer and its class).
 * Layout rule the helpers encode: every 4-D tensor is NCHW inside the graph, 2-D and 3-D tensors keep the
 * Keras layout; Keras shapes (inShapes/outShape) are always NHWC.
 */
import type { AttrValue, GraphBuilder } from '../graph.ts';
import type { Layer, Shape } from '../topology.ts';

export type Config = Record<string, unknown>;

export interface Ctx {
  g: GraphBuilder;
  layer: Layer;
  cls: string;
  config: Config;
  inputs: string[];
  inShapes: Shape[];
  outShape: Shape;
}

/** Emits the layer's nodes; returns the tensor holding its output (graph layout). */
export type Converter = (c: Ctx) => string;

export function fail(c: Ctx, why: string): never {
  throw new Error(`keras-to-onnx: layer '${c.layer.name}' (${c.cls}): ${why}`);
}

/** The layer's only input. */
export function one(c: Ctx): string {
  if (c.inputs.length !== 1) fail(c, `expected 1 input, got ${c.inputs.length}`);
  return c.inputs[0];
}

export function checkChannelsLast(c: Ctx): void {
  if (c.inShapes[0].length !== 4) fail(c, `needs a 4-D (NHWC) input, got [${c.inShapes[0].join(', ')}]`);
  const f = c.config.dataFormat;
  if (f !== undefined && f !== 'channelsLast') fail(c, `dataFormat=${String(f)}: only channelsLast is supported`);
}

/** A Keras (height, width) setting, given as one number or a pair. */
export function pair(c: Ctx, key: string): [number, number] {
  const v = c.config[key];
  const p = typeof v === 'number' ? [v, v] : (v as number[] | undefined);
  if (!Array.isArray(p) || p.length !== 2) fail(c, `unexpected ${key}=${JSON.stringify(v)}`);
  return [Number(p[0]), Number(p[1])];
}

/** Keras axis (negative allowed) of the layer's output -> the axis in the graph (NCHW for 4-D tensors). */
export function graphAxis(c: Ctx, axis: number): number {
  const rank = c.outShape.length;
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) fail(c, `axis=${axis} out of range for a ${rank}-D tensor`);
  return rank === 4 ? [0, 2, 3, 1][a] : a;
}

export function sameRanks(c: Ctx): void {
  const ranks = new Set([...c.inShapes, c.outShape].map((s) => s.length));
  if (ranks.size > 1) fail(c, `inputs of different ranks [${c.inShapes.map((s) => `[${s.join(', ')}]`).join(', ')}] are not supported`);
}

/** The layer's (first) input in Keras layout: NCHW -> NHWC for a 4-D tensor. */
export function toKeras(c: Ctx, x: string): string {
  return c.inShapes[0].length === 4 ? c.g.node('Transpose', [x], { perm: [0, 2, 3, 1] }, `${c.layer.name}_in_nhwc`) : x;
}

/** A result in Keras layout -> the graph's layout (NHWC -> NCHW for a 4-D output), named `name`. */
export function fromKeras(c: Ctx, x: string, name: string): string {
  return c.outShape.length === 4 ? c.g.node('Transpose', [x], { perm: [0, 3, 1, 2] }, name) : x;
}

/**
 * Padding attributes for TF semantics: `valid` = none; `same` = out = ceil(in / stride) with the total
 * padding split floor/ceil (the extra row/column at the bottom/right), computed from the static input size,
 * or ONNX SAME_UPPER (the same rule) when the spatial size is dynamic.
 */
export function padAttrs(c: Ctx, kh: number, kw: number, strides: [number, number], dil: [number, number]): Record<string, AttrValue> {
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

export interface Weight {
  shape: number[];
  data: Float32Array;
}

/** The layer's weights keyed by their Keras name (`kernel`, `bias`, `gamma`, `moving_mean`, ...). */
export function weights(c: Ctx): Map<string, Weight> {
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

export function need(c: Ctx, wts: Map<string, Weight>, key: string): Weight {
  const w = wts.get(key);
  if (!w) fail(c, `missing weight '${key}' (has: ${[...wts.keys()].join(', ') || 'none'})`);
  return w;
}
