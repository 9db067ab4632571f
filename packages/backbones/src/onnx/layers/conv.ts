/**
 * Convolutions, where nearly all of a backbone's weights and compute are: all three Keras kinds become
 * plain ONNX Conv (depthwise = grouped, separable = depthwise then 1x1), so ONNX Runtime applies its own
 * Conv fusions (BatchNormalization folding, Relu/Clip fusion) to every one of them. Kernels are re-laid out
 * from Keras' HWIO to ONNX's OIHW here, once, at conversion time.
 */
import type { AttrValue } from '../graph.ts';
import { activation, hasActivation } from './activation.ts';
import { checkChannelsLast, fail, need, one, padAttrs, pair, weights, type Converter, type Ctx } from './context.ts';

export const CONV_CONVERTERS: Record<string, Converter> = {
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
};

function convAttrs(c: Ctx, kh: number, kw: number): Record<string, AttrValue> {
  const strides = pair(c, 'strides');
  const dil = c.config.dilationRate === undefined ? ([1, 1] as [number, number]) : pair(c, 'dilationRate');
  if ((strides[0] > 1 || strides[1] > 1) && (dil[0] > 1 || dil[1] > 1)) fail(c, 'strides > 1 together with dilation > 1');
  return { strides, dilations: dil, ...padAttrs(c, kh, kw, strides, dil) };
}

/**
 * Keras kernel [kh, kw, I, O] -> ONNX [O, I, kh, kw]. A depthwise kernel [kh, kw, C, m] is the case
 * I = 1, O = C*m: ONNX output channel c*m + j reads kernel[.., c, j], TF's channel order.
 */
export function hwioToOihw(src: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
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
