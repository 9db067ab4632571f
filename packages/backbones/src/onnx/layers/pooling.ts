/**
 * Layers that only move or reduce over the spatial axes (pooling, global pooling, zero padding,
 * cropping). They are where TF and ONNX semantics differ in small ways (TF `same` padding puts the extra
 * pixel at the bottom/right, TF average pooling ignores padded pixels), so the TF behaviour is pinned
 * down explicitly rather than left to ONNX defaults.
 */
import type { AttrValue } from '../graph.ts';
import { checkChannelsLast, fail, one, padAttrs, pair, type Converter, type Ctx } from './context.ts';

export const POOLING_CONVERTERS: Record<string, Converter> = {
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

  GlobalAveragePooling2D: (c) => globalPool(c, 'ReduceMean'),
  GlobalMaxPooling2D: (c) => globalPool(c, 'ReduceMax'),
};

function pool(c: Ctx, op: 'MaxPool' | 'AveragePool'): string {
  checkChannelsLast(c);
  const [kh, kw] = pair(c, 'poolSize');
  const strides = c.config.strides === null || c.config.strides === undefined ? ([kh, kw] as [number, number]) : pair(c, 'strides');
  const attrs: Record<string, AttrValue> = { kernel_shape: [kh, kw], strides, ...padAttrs(c, kh, kw, strides, [1, 1]) };
  // Keras/TF average pooling with `same` padding averages over the real pixels only.
  if (op === 'AveragePool') attrs.count_include_pad = 0;
  return c.g.node(op, [one(c)], attrs, c.layer.name);
}

function globalPool(c: Ctx, op: 'ReduceMean' | 'ReduceMax'): string {
  checkChannelsLast(c);
  // keepdims (Keras 2.6+) keeps [N, 1, 1, C] (NCHW [N, C, 1, 1]); otherwise [N, C]
  const keep = c.outShape.length === 4 ? 1 : 0;
  return c.g.node(op, [one(c)], { axes: [2, 3], keepdims: keep }, c.layer.name);
}
