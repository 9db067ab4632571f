/**
 * InceptionV3 as `keras.applications.InceptionV3(include_top=False)` builds it (Keras 2.x
 * `keras/applications/inception_v3.py`), up to `mixed10`, with the names Keras gives its layers in a fresh
 * session: input_1; conv2d_bn blocks Conv2D (no bias) `conv2d`, `conv2d_1`, ..., `conv2d_93`,
 * BatchNormalization(scale=False) `batch_normalization`, ..., `batch_normalization_93`, Activation('relu')
 * `activation`, ..., `activation_93`; `max_pooling2d`, ..., `max_pooling2d_3`; `average_pooling2d`, ...,
 * `average_pooling2d_8`; the explicitly named concatenations mixed0 .. mixed10, mixed9_0, mixed9_1 and the
 * unnamed `concatenate`, `concatenate_1`. Layers are created in Keras' order, so the auto numbers (and
 * model.layers' topological order) are Keras'.
 *
 * Old Keras numbered from 1 (`conv2d_1` ... `conv2d_94`, `batch_normalization_1`, `concatenate_1`, ...; the
 * nsfwjs inception_v3 model and, presumably, the released `inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5`):
 * such a file does not load by name, and loads by topological order (weights/assign.ts), as Keras'
 * `model.load_weights(path)` does.
 *
 * Keras' InceptionV3 takes `preprocess_input` pixels (mode 'tf': x / 127.5 - 1); the backbone's input
 * transform `pipeline_input` (when given) sits first. Weights are created as zeros; callers assign them.
 */
import { tf } from '@caption/core/tf';
import { LayerGraph as Net, buildUntil } from './graph.ts';
import { ChannelAffine, type ChannelAffineArgs } from './layers.ts';

type T = tf.SymbolicTensor;
type Padding = 'same' | 'valid';

/** keras conv2d_bn: Conv2D (no bias) + BatchNormalization(axis 3, scale=False) + Activation('relu'). */
function conv2dBn(net: Net, x: T, filters: number, rows: number, cols: number, padding: Padding = 'same', strides = 1): T {
  x = net.apply(tf.layers.conv2d({
    filters, kernelSize: [rows, cols], strides, padding, useBias: false, kernelInitializer: 'zeros', name: net.auto('conv2d'),
  }), x);
  x = net.apply(tf.layers.batchNormalization({ axis: 3, scale: false, name: net.auto('batch_normalization') }), x);
  return net.apply(tf.layers.activation({ activation: 'relu', name: net.auto('activation') }), x);
}

const maxPool = (net: Net, x: T): T => net.apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: net.auto('max_pooling2d') }), x);
const avgPool = (net: Net, x: T): T =>
  net.apply(tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same', name: net.auto('average_pooling2d') }), x);
const concat = (net: Net, xs: T[], name?: string): T => net.apply(tf.layers.concatenate({ axis: 3, name: name ?? net.auto('concatenate') }), xs);

/** [299, 299, 3] -> [35, 35, 192]: three 3x3 convs, max pool, 1x1 and 3x3 convs, max pool. */
function stem(net: Net, x: T): T {
  x = conv2dBn(net, x, 32, 3, 3, 'valid', 2); // 149x149x32
  x = conv2dBn(net, x, 32, 3, 3, 'valid');    // 147x147x32
  x = conv2dBn(net, x, 64, 3, 3);             // 147x147x64
  x = maxPool(net, x);                        // 73x73x64
  x = conv2dBn(net, x, 80, 1, 1, 'valid');    // 73x73x80
  x = conv2dBn(net, x, 192, 3, 3, 'valid');   // 71x71x192
  return maxPool(net, x);                     // 35x35x192
}

/** mixed0, mixed1, mixed2: [35, 35, c] -> [35, 35, 224 + pool] (256, 288, 288). */
function block35(net: Net, x: T, pool: number, name: string): T {
  const b1x1 = conv2dBn(net, x, 64, 1, 1);
  let b5x5 = conv2dBn(net, x, 48, 1, 1);
  b5x5 = conv2dBn(net, b5x5, 64, 5, 5);
  let b3x3dbl = conv2dBn(net, x, 64, 1, 1);
  b3x3dbl = conv2dBn(net, b3x3dbl, 96, 3, 3);
  b3x3dbl = conv2dBn(net, b3x3dbl, 96, 3, 3);
  const bPool = conv2dBn(net, avgPool(net, x), pool, 1, 1);
  return concat(net, [b1x1, b5x5, b3x3dbl, bPool], name);
}

/** mixed3: [35, 35, 288] -> [17, 17, 768]. */
function reductionA(net: Net, x: T): T {
  const b3x3 = conv2dBn(net, x, 384, 3, 3, 'valid', 2);
  let b3x3dbl = conv2dBn(net, x, 64, 1, 1);
  b3x3dbl = conv2dBn(net, b3x3dbl, 96, 3, 3);
  b3x3dbl = conv2dBn(net, b3x3dbl, 96, 3, 3, 'valid', 2);
  const bPool = maxPool(net, x);
  return concat(net, [b3x3, b3x3dbl, bPool], 'mixed3');
}

/** mixed4 .. mixed7: [17, 17, 768] -> [17, 17, 768], factorised 7x7 branches of width `c7` (128, 160, 160, 192). */
function block17(net: Net, x: T, c7: number, name: string): T {
  const b1x1 = conv2dBn(net, x, 192, 1, 1);
  let b7x7 = conv2dBn(net, x, c7, 1, 1);
  b7x7 = conv2dBn(net, b7x7, c7, 1, 7);
  b7x7 = conv2dBn(net, b7x7, 192, 7, 1);
  let b7x7dbl = conv2dBn(net, x, c7, 1, 1);
  b7x7dbl = conv2dBn(net, b7x7dbl, c7, 7, 1);
  b7x7dbl = conv2dBn(net, b7x7dbl, c7, 1, 7);
  b7x7dbl = conv2dBn(net, b7x7dbl, c7, 7, 1);
  b7x7dbl = conv2dBn(net, b7x7dbl, 192, 1, 7);
  const bPool = conv2dBn(net, avgPool(net, x), 192, 1, 1);
  return concat(net, [b1x1, b7x7, b7x7dbl, bPool], name);
}

/** mixed8: [17, 17, 768] -> [8, 8, 1280]. */
function reductionB(net: Net, x: T): T {
  let b3x3 = conv2dBn(net, x, 192, 1, 1);
  b3x3 = conv2dBn(net, b3x3, 320, 3, 3, 'valid', 2);
  let b7x7x3 = conv2dBn(net, x, 192, 1, 1);
  b7x7x3 = conv2dBn(net, b7x7x3, 192, 1, 7);
  b7x7x3 = conv2dBn(net, b7x7x3, 192, 7, 1);
  b7x7x3 = conv2dBn(net, b7x7x3, 192, 3, 3, 'valid', 2);
  const bPool = maxPool(net, x);
  return concat(net, [b3x3, b7x7x3, bPool], 'mixed8');
}

/** mixed9, mixed10 (i = 0, 1): [8, 8, c] -> [8, 8, 2048]; the split 1x3 / 3x1 pairs concatenated as mixed9_<i> and `concatenate*`. */
function block8(net: Net, x: T, i: number): T {
  const b1x1 = conv2dBn(net, x, 320, 1, 1);
  const b3x3 = conv2dBn(net, x, 384, 1, 1);
  const b3x3Split = concat(net, [conv2dBn(net, b3x3, 384, 1, 3), conv2dBn(net, b3x3, 384, 3, 1)], `mixed9_${i}`);
  let b3x3dbl = conv2dBn(net, x, 448, 1, 1);
  b3x3dbl = conv2dBn(net, b3x3dbl, 384, 3, 3);
  const b3x3dblSplit = concat(net, [conv2dBn(net, b3x3dbl, 384, 1, 3), conv2dBn(net, b3x3dbl, 384, 3, 1)]);
  const bPool = conv2dBn(net, avgPool(net, x), 192, 1, 1);
  return concat(net, [b1x1, b3x3Split, b3x3dblSplit, bPool], `mixed${9 + i}`);
}

/**
 * InceptionV3 without its classifier: [S, S, 3] -> mixed10 [8, 8, 2048] for S = 299, or only up to the layer
 * `stopAt` (the network then ends there; an unknown name builds it all).
 */
export function inceptionV3(inputSize: number, opts: { stopAt?: string; inputTransform?: Omit<ChannelAffineArgs, 'name'> } = {}): tf.LayersModel {
  const net = new Net();
  const input = tf.input({ shape: [inputSize, inputSize, 3], name: 'input_1' });
  let x: T = input;
  if (opts.inputTransform) x = net.apply(new ChannelAffine({ ...opts.inputTransform, name: 'pipeline_input' }), x);
  const stages: ((y: T) => T)[] = [
    (y) => stem(net, y),
    (y) => block35(net, y, 32, 'mixed0'),
    (y) => block35(net, y, 64, 'mixed1'),
    (y) => block35(net, y, 64, 'mixed2'),
    (y) => reductionA(net, y),
    ...[128, 160, 160, 192].map((c7, i) => (y: T) => block17(net, y, c7, `mixed${4 + i}`)),
    (y) => reductionB(net, y),
    (y) => block8(net, y, 0),
    (y) => block8(net, y, 1),
  ];
  return buildUntil(net, input, x, stages, opts.stopAt, 'inception_v3');
}
