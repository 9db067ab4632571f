/**
 * Layers that change a tensor's rank or mix its last axis (Flatten, Reshape, Dense): the classifier-style
 * tops of VGG-like backbones. Keras defines their element order on NHWC (Flatten: row, column, channel),
 * so a feature map is taken back to NHWC before them and, for a 4-D result, to NCHW after; that keeps the
 * features identical to TF.js, not just equivalent up to a permutation.
 */
import { activation, hasActivation } from './activation.ts';
import { fail, fromKeras, need, one, toKeras, weights, type Converter } from './context.ts';

export const VECTOR_CONVERTERS: Record<string, Converter> = {
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
};
