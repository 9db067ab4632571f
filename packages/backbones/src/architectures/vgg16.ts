/**
 * VGG16 as `keras.applications.VGG16(include_top=True)` builds it, up to `fc2` (the 4096-d "transfer
 * values" of the Hvass-Labs transfer-learning tutorial), with Keras' layer names so that
 * `vgg16_weights_tf_dim_ordering_tf_kernels.h5` loads by name: block1_conv1 ... block5_pool, flatten, fc1,
 * fc2 (the file's `predictions` layer is not built, and ignored when loading).
 *
 * Keras' VGG16 takes `preprocess_input(mode='caffe')` pixels: BGR, 0..255, minus the ImageNet channel means.
 * The backbone's input transform `pipeline_input` (when given; the registry's) does that to the pipeline's
 * RGB [0,1] pixels: out[c] = in[2 - c] * 255 - mean_bgr[c].
 * Weights are created as zeros; callers assign them (random, .h5).
 */
import { tf } from '@caption/core/tf';
import { ChannelAffine, type ChannelAffineArgs } from './layers.ts';

type T = tf.SymbolicTensor;

/** VGG16 up to fc2, or only up to `stopAt` (what a cut there needs; fc1 alone is 103M weights). */
export function vgg16(inputSize: number, opts: { stopAt?: string; inputTransform?: Omit<ChannelAffineArgs, 'name'> } = {}): tf.LayersModel {
  const stopAt = opts.stopAt ?? 'fc2';
  const input = tf.input({ shape: [inputSize, inputSize, 3], name: 'input_1' });
  const layers: tf.layers.Layer[] = opts.inputTransform ? [new ChannelAffine({ ...opts.inputTransform, name: 'pipeline_input' })] : [];
  const blocks: [number, number][] = [[64, 2], [128, 2], [256, 3], [512, 3], [512, 3]];
  blocks.forEach(([filters, convs], i) => {
    for (let j = 1; j <= convs; j++) {
      layers.push(tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: 'zeros', name: `block${i + 1}_conv${j}` }));
    }
    layers.push(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `block${i + 1}_pool` }));
  });
  layers.push(tf.layers.flatten({ name: 'flatten' }));
  layers.push(tf.layers.dense({ units: 4096, activation: 'relu', kernelInitializer: 'zeros', name: 'fc1' }));
  layers.push(tf.layers.dense({ units: 4096, activation: 'relu', kernelInitializer: 'zeros', name: 'fc2' }));
  const last = layers.findIndex((l) => l.name === stopAt);
  const upTo = last < 0 ? layers.length : last + 1;
  if (upTo > layers.findIndex((l) => l.name === 'flatten') && inputSize !== 224) {
    throw new Error(`vgg16: fc1 needs a 224x224 input (7x7x512 after block5_pool), got ${inputSize}`);
  }
  let x: T = input;
  for (const l of layers.slice(0, upTo)) x = l.apply(x) as T;
  return tf.model({ inputs: input, outputs: x, name: 'vgg16' });
}
