/**
 * Layers that join several branches (Inception's concatenations, residual adds, squeeze-excite
 * multiplies). ONNX broadcasts like numpy, so in NCHW the inputs line up exactly as Keras lines them up in
 * NHWC (e.g. [N, C, H, W] * [N, C, 1, 1]) as long as every input has the same rank, which is checked.
 */
import { fail, graphAxis, sameRanks, type Converter, type Ctx } from './context.ts';

export const MERGE_CONVERTERS: Record<string, Converter> = {
  Concatenate: (c) => {
    sameRanks(c);
    return c.g.node('Concat', c.inputs, { axis: graphAxis(c, Number(c.config.axis ?? -1)) }, c.layer.name);
  },
  Add: (c) => variadic(c, 'Add', 'Sum'),
  Multiply: (c) => variadic(c, 'Mul'),
  Maximum: (c) => variadic(c, 'Max', 'Max'),
  Minimum: (c) => variadic(c, 'Min', 'Min'),
  Average: (c) => variadic(c, 'Mean', 'Mean'),
};

/** Elementwise merge: the binary op for 2 inputs, the n-ary op (or a chain of binary ops) for more. */
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
