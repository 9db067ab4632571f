/**
 * The convolution gradients TF.js wasm 4.22 lacks — Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter and
 * DepthwiseConv2dNativeBackpropInput — and a fast path for the one it has as a slow loop (Conv2DBackpropInput of
 * a 1x1 conv). A regular conv's filter gradient is one matrix product per filter tap: the input rows a tap reads
 * are one strided slice of the padded input. The depthwise ones are multiply-accumulate loops over the typed
 * arrays. Training convolution layers on wasm (an encoder head after a backbone cut) needs them; the cpu
 * backend's kernels are the reference the tests compare with. A kernel may return a Tensor made by ops: the
 * engine takes it as the output as is, and ops run inside a kernel are not recorded on the gradient tape.
 */
import * as tf from '@tensorflow/tfjs';

type Conv4D = [number, number, number, number];
type ConvInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

interface ConvAttrs {
  strides: number | [number, number];
  dilations?: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export function registerWasmConvGradients(): void {
  registerPointwiseInputGrad();
  register('Conv2DBackpropFilter', ({ x, dy }, attrs) => conv2dFilterGrad(x, dy, attrs as unknown as ConvAttrs & { filterShape: Conv4D }));
  register('DepthwiseConv2dNativeBackpropFilter', ({ x, dy }, attrs) => depthwiseFilterGrad(x, dy, attrs as unknown as ConvAttrs & { filterShape: Conv4D }));
  register('DepthwiseConv2dNativeBackpropInput', ({ dy, filter }, attrs) => depthwiseInputGrad(dy, filter, attrs as unknown as ConvAttrs & { inputShape: Conv4D }));
}

function register(kernelName: string, grad: (inputs: Record<string, tf.Tensor4D>, attrs: tf.NamedAttrMap) => tf.Tensor): void {
  if (tf.getKernel(kernelName, 'wasm')) return;
  tf.registerKernel({
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs }) => {
      for (const [name, t] of Object.entries(inputs)) {
        if (!(t instanceof tf.Tensor)) throw new Error(`${kernelName}: input ${name} is not a Tensor (called outside an op?)`);
      }
      return tf.tidy(() => grad(inputs as Record<string, tf.Tensor4D>, attrs ?? {})) as unknown as tf.TensorInfo;
    },
  });
}

/**
 * wasm has Conv2DBackpropInput, but as a plain loop: several times slower than the forward conv. For a 1x1
 * conv at stride 1 without padding (the expand and project convs of inverted-residual blocks) dx = dy · Wᵀ.
 */
function registerPointwiseInputGrad(): void {
  const stock = tf.getKernel('Conv2DBackpropInput', 'wasm');
  if (!stock) return;
  tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropInput',
    backendName: 'wasm',
    setupFunc: stock.setupFunc,
    kernelFunc: (args) => {
      const { dy, filter } = args.inputs as { dy: tf.Tensor4D; filter: tf.Tensor4D };
      const a = args.attrs as unknown as ConvAttrs & { inputShape: Conv4D; dataFormat?: string };
      const [kh, kw, ci, co] = filter.shape;
      const pointwise = kh === 1 && kw === 1 && [a.strides].flat().every((s) => s === 1) && (a.pad === 'same' || a.pad === 'valid' || a.pad === 0);
      if (!pointwise || a.dataFormat === 'NCHW' || !(dy instanceof tf.Tensor)) return stock.kernelFunc(args);
      return tf.tidy(() => tf.matMul(dy.reshape([-1, co]), filter.reshape([ci, co]), false, true).reshape(a.inputShape)) as unknown as tf.TensorInfo;
    },
  });
}

/** dW[i,j] = Σ over batch and output positions of (the input rows tap (i,j) read)ᵀ · dy. */
function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, a: ConvAttrs & { filterShape: Conv4D }): tf.Tensor {
  const info = tf.backend_util.computeConv2DInfo(x.shape, a.filterShape, a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode);
  const dy2 = dy.reshape([-1, info.outChannels]);
  const taps = tapSlices(x, info).map((xs) => tf.matMul(xs.reshape([-1, info.inChannels]), dy2, true, false));
  return tf.stack(taps).reshape(a.filterShape);
}

/**
 * The depthwise gradients as loops over the typed arrays: per tap a multiply-accumulate per channel, which
 * composed ops (a strided slice, a product and a reduction per tap) did at a fraction of the speed.
 */
function depthwiseFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, a: ConvAttrs & { filterShape: Conv4D }): tf.Tensor {
  const info = tf.backend_util.computeConv2DInfo(x.shape, a.filterShape, a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, true);
  const [xs, dys] = [x.dataSync() as Float32Array, dy.dataSync() as Float32Array];
  const dw = new Float32Array(size(a.filterShape));
  const M = a.filterShape[3];
  const C = info.inChannels;
  forEachRead(info, M === 1
    ? (xAt, dyAt, wAt) => { for (let c = 0; c < C; c++) dw[wAt + c] += xs[xAt + c] * dys[dyAt + c]; }
    : (xAt, dyAt, wAt) => {
      for (let c = 0; c < C; c++) for (let m = 0; m < M; m++) dw[wAt + c * M + m] += xs[xAt + c] * dys[dyAt + c * M + m];
    }, C * M);
  return tf.tensor4d(dw, a.filterShape);
}

function depthwiseInputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D, a: ConvAttrs & { inputShape: Conv4D }): tf.Tensor {
  const info = tf.backend_util.computeConv2DInfo(a.inputShape, filter.shape, a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, true);
  const [dys, ws] = [dy.dataSync() as Float32Array, filter.dataSync() as Float32Array];
  const dx = new Float32Array(size(a.inputShape));
  const M = filter.shape[3];
  const C = info.inChannels;
  forEachRead(info, M === 1
    ? (xAt, dyAt, wAt) => { for (let c = 0; c < C; c++) dx[xAt + c] += dys[dyAt + c] * ws[wAt + c]; }
    : (xAt, dyAt, wAt) => {
      for (let c = 0; c < C; c++) for (let m = 0; m < M; m++) dx[xAt + c] += dys[dyAt + c * M + m] * ws[wAt + c * M + m];
    }, C * M);
  return tf.tensor4d(dx, a.inputShape);
}

/**
 * Every (output position, tap) pair whose read falls inside the input: the offsets of the input pixel, of the
 * output pixel in dy (`dyChannels` per pixel) and of the tap in the filter.
 */
function forEachRead(info: ConvInfo, fn: (xAt: number, dyAt: number, wAt: number) => void, dyChannels: number): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, filterHeight: KH, filterWidth: KW } = info;
  for (let b = 0; b < info.batchSize; b++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        const dyAt = ((b * OH + oy) * OW + ox) * dyChannels;
        for (let i = 0; i < KH; i++) {
          const iy = oy * info.strideHeight + i * info.dilationHeight - info.padInfo.top;
          if (iy < 0 || iy >= H) continue;
          for (let j = 0; j < KW; j++) {
            const ix = ox * info.strideWidth + j * info.dilationWidth - info.padInfo.left;
            if (ix >= 0 && ix < W) fn(((b * H + iy) * W + ix) * C, dyAt, (i * KW + j) * dyChannels);
          }
        }
      }
    }
  }
}

const size = (shape: number[]) => shape.reduce((p, n) => p * n, 1);

/** For every filter tap, the [B, outH, outW, C] input values it multiplies (zero padding included). */
function tapSlices(x: tf.Tensor4D, info: ConvInfo): tf.Tensor4D[] {
  const [padH, padW] = paddedSize(info);
  const { top, left } = info.padInfo;
  const padded = x.pad([[0, 0], [top, padH - top - info.inHeight], [left, padW - left - info.inWidth], [0, 0]]);
  const out: tf.Tensor4D[] = [];
  for (let i = 0; i < info.filterHeight; i++) {
    for (let j = 0; j < info.filterWidth; j++) { // tap (i, j) first reads padded row i·dilation, column j·dilation
      const [y0, x0] = [i * info.dilationHeight, j * info.dilationWidth];
      const end = [info.batchSize, y0 + (info.outHeight - 1) * info.strideHeight + 1, x0 + (info.outWidth - 1) * info.strideWidth + 1, info.inChannels];
      out.push(tf.stridedSlice(padded, [0, y0, x0, 0], end, [1, info.strideHeight, info.strideWidth, 1]) as tf.Tensor4D);
    }
  }
  return out;
}

/** Height and width of the zero-padded input: large enough for every tap's last read. */
function paddedSize(info: ConvInfo): [number, number] {
  const need = (out: number, stride: number, effective: number) => (out - 1) * stride + effective;
  return [
    Math.max(info.padInfo.top + info.inHeight + info.padInfo.bottom, need(info.outHeight, info.strideHeight, info.effectiveFilterHeight)),
    Math.max(info.padInfo.left + info.inWidth + info.padInfo.right, need(info.outWidth, info.strideWidth, info.effectiveFilterWidth)),
  ];
}
