/**
 * EfficientNetB0 as `keras.applications.EfficientNetB0(include_top=False, weights='imagenet')` builds it
 * (Keras 2.x `keras/applications/efficientnet.py`), with the same layer names, so a Keras weights file
 * (`efficientnetb0_notop.h5`) loads by name: input_1, rescaling, normalization, rescaling_1, stem_conv_pad,
 * stem_conv, stem_bn, stem_activation, block1a_dwconv, block1a_bn, block1a_activation, block1a_se_squeeze,
 * block1a_se_reshape, block1a_se_reduce, block1a_se_expand, block1a_se_excite, block1a_project_conv,
 * block1a_project_bn, block2a_expand_conv, ..., block7a_project_bn, top_conv, top_bn, top_activation.
 *
 * In front of Keras' own preprocessing sits the backbone's input transform `pipeline_input` when given
 * (the registry's: x * 255, the pipeline's [0,1] pixels -> the 0..255 the Keras model takes). Keras' stem then does Rescaling(1/255), Normalization (weights `mean`,
 * `variance` from the file: ImageNet mean and, as Keras ships them, the std-devs) and, as Keras does for its
 * ImageNet weights, Rescaling(1/sqrt(stddev)) per channel (keras-team/keras#49930 fix), i.e. (x/255 - mean)/std.
 * Weights are created as zeros; callers assign them (random, .h5). Normalization starts at the ImageNet values.
 */
import { tf } from '@caption/core/tf';
import { correctPad } from './graph.ts';
import { IMAGENET_MEAN_RGB, IMAGENET_STDDEV_RGB } from './constants.ts';
import { ChannelAffine, Normalization, type ChannelAffineArgs } from './layers.ts';

interface BlockArgs {
  kernelSize: number;
  repeats: number;
  filtersIn: number;
  filtersOut: number;
  expandRatio: number;
  strides: number;
  seRatio: number;
}

/** keras DEFAULT_BLOCKS_ARGS (id_skip is True for all). */
const B0_BLOCKS: BlockArgs[] = [
  { kernelSize: 3, repeats: 1, filtersIn: 32, filtersOut: 16, expandRatio: 1, strides: 1, seRatio: 0.25 },
  { kernelSize: 3, repeats: 2, filtersIn: 16, filtersOut: 24, expandRatio: 6, strides: 2, seRatio: 0.25 },
  { kernelSize: 5, repeats: 2, filtersIn: 24, filtersOut: 40, expandRatio: 6, strides: 2, seRatio: 0.25 },
  { kernelSize: 3, repeats: 3, filtersIn: 40, filtersOut: 80, expandRatio: 6, strides: 2, seRatio: 0.25 },
  { kernelSize: 5, repeats: 3, filtersIn: 80, filtersOut: 112, expandRatio: 6, strides: 1, seRatio: 0.25 },
  { kernelSize: 5, repeats: 4, filtersIn: 112, filtersOut: 192, expandRatio: 6, strides: 2, seRatio: 0.25 },
  { kernelSize: 3, repeats: 1, filtersIn: 192, filtersOut: 320, expandRatio: 6, strides: 1, seRatio: 0.25 },
];
const DROP_CONNECT_RATE = 0.2;

type T = tf.SymbolicTensor;
const apply = (layer: tf.layers.Layer, x: T | T[]): T => layer.apply(x) as T;
const zeros = 'zeros' as const;

function block(x0: T, dropRate: number, name: string, a: Omit<BlockArgs, 'repeats'>): T {
  const filters = a.filtersIn * a.expandRatio;
  let x = x0;
  if (a.expandRatio !== 1) {
    x = apply(tf.layers.conv2d({ filters, kernelSize: 1, padding: 'same', useBias: false, kernelInitializer: zeros, name: `${name}expand_conv` }), x);
    x = apply(tf.layers.batchNormalization({ axis: 3, name: `${name}expand_bn` }), x);
    x = apply(tf.layers.activation({ activation: 'swish', name: `${name}expand_activation` }), x);
  }
  let pad: 'same' | 'valid' = 'same';
  if (a.strides === 2) {
    x = apply(tf.layers.zeroPadding2d({ padding: correctPad(x, a.kernelSize), name: `${name}dwconv_pad` }), x);
    pad = 'valid';
  }
  x = apply(tf.layers.depthwiseConv2d({ kernelSize: a.kernelSize, strides: a.strides, padding: pad, useBias: false, depthwiseInitializer: zeros, name: `${name}dwconv` }), x);
  x = apply(tf.layers.batchNormalization({ axis: 3, name: `${name}bn` }), x);
  x = apply(tf.layers.activation({ activation: 'swish', name: `${name}activation` }), x);

  if (a.seRatio > 0 && a.seRatio <= 1) {
    const filtersSe = Math.max(1, Math.floor(a.filtersIn * a.seRatio));
    let se = apply(tf.layers.globalAveragePooling2d({ name: `${name}se_squeeze` }), x);
    se = apply(tf.layers.reshape({ targetShape: [1, 1, filters], name: `${name}se_reshape` }), se);
    se = apply(tf.layers.conv2d({ filters: filtersSe, kernelSize: 1, padding: 'same', activation: 'swish', kernelInitializer: zeros, name: `${name}se_reduce` }), se);
    se = apply(tf.layers.conv2d({ filters, kernelSize: 1, padding: 'same', activation: 'sigmoid', kernelInitializer: zeros, name: `${name}se_expand` }), se);
    x = apply(tf.layers.multiply({ name: `${name}se_excite` }), [x, se]);
  }

  x = apply(tf.layers.conv2d({ filters: a.filtersOut, kernelSize: 1, padding: 'same', useBias: false, kernelInitializer: zeros, name: `${name}project_conv` }), x);
  x = apply(tf.layers.batchNormalization({ axis: 3, name: `${name}project_bn` }), x);
  if (a.strides === 1 && a.filtersIn === a.filtersOut) {
    if (dropRate > 0) x = apply(tf.layers.dropout({ rate: dropRate, noiseShape: [null, 1, 1, 1] as unknown as number[], name: `${name}drop` }), x);
    x = apply(tf.layers.add({ name: `${name}add` }), [x, x0]);
  }
  return x;
}

/** EfficientNetB0 without its classifier: [size, size, 3] -> top_activation [~size/32, ~size/32, 1280]. */
export function efficientNetB0(inputSize: number, opts: { inputTransform?: Omit<ChannelAffineArgs, 'name'> } = {}): tf.LayersModel {
  const input = tf.input({ shape: [inputSize, inputSize, 3], name: 'input_1' });
  let x: T = input;
  if (opts.inputTransform) x = apply(new ChannelAffine({ ...opts.inputTransform, name: 'pipeline_input' }), x);
  x = apply(tf.layers.rescaling({ scale: 1 / 255, name: 'rescaling' }), x);
  const norm = new Normalization({ axis: -1, name: 'normalization' });
  x = apply(norm, x);
  x = apply(tf.layers.rescaling({ scale: IMAGENET_STDDEV_RGB.map((s) => 1 / Math.sqrt(s)) as unknown as number, name: 'rescaling_1' }), x);
  x = apply(tf.layers.zeroPadding2d({ padding: correctPad(x, 3), name: 'stem_conv_pad' }), x);
  x = apply(tf.layers.conv2d({ filters: 32, kernelSize: 3, strides: 2, padding: 'valid', useBias: false, kernelInitializer: zeros, name: 'stem_conv' }), x);
  x = apply(tf.layers.batchNormalization({ axis: 3, name: 'stem_bn' }), x);
  x = apply(tf.layers.activation({ activation: 'swish', name: 'stem_activation' }), x);

  const total = B0_BLOCKS.reduce((n, b) => n + b.repeats, 0);
  let b = 0;
  B0_BLOCKS.forEach((args, i) => {
    for (let j = 0; j < args.repeats; j++) {
      const a = j === 0 ? args : { ...args, strides: 1, filtersIn: args.filtersOut };
      x = block(x, (DROP_CONNECT_RATE * b) / total, `block${i + 1}${String.fromCharCode(97 + j)}_`, a);
      b++;
    }
  });

  x = apply(tf.layers.conv2d({ filters: 1280, kernelSize: 1, padding: 'same', useBias: false, kernelInitializer: zeros, name: 'top_conv' }), x);
  x = apply(tf.layers.batchNormalization({ axis: 3, name: 'top_bn' }), x);
  x = apply(tf.layers.activation({ activation: 'swish', name: 'top_activation' }), x);
  const model = tf.model({ inputs: input, outputs: x, name: 'efficientnetb0' });
  norm.setWeights([tf.tensor1d(IMAGENET_MEAN_RGB), tf.tensor1d(IMAGENET_STDDEV_RGB), tf.scalar(0)]);
  return model;
}
