/**
 * MobileNetV2 as `keras.applications.MobileNetV2(alpha=1.0, include_top=False)` builds it (Keras 2.x
 * `keras/applications/mobilenet_v2.py`, the version with `Conv1_pad`), with the same layer names and the
 * same layer order, so a Keras weights file (`mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5`)
 * loads by name: input_1, Conv1_pad, Conv1, bn_Conv1, Conv1_relu, expanded_conv_depthwise, expanded_conv_depthwise_BN,
 * expanded_conv_depthwise_relu, expanded_conv_project, expanded_conv_project_BN, block_1_expand, block_1_expand_BN,
 * block_1_expand_relu, block_1_pad, block_1_depthwise, ..., block_16_project_BN, Conv_1, Conv_1_bn, out_relu.
 * (The nsfwjs mobilenet_v2 model has exactly these names up to out_relu.)
 *
 * Keras' MobileNetV2 takes `preprocess_input` pixels (mode 'tf': x / 127.5 - 1, in [-1, 1]); the backbone's
 * input transform `pipeline_input` (when given) sits first and gets the pipeline's [0,1] pixels there.
 * Weights are created as zeros; callers assign them (random, .h5).
 */
import { tf } from '@caption/core/tf';
import { LayerGraph as Net, buildUntil, correctPad } from './graph.ts';
import { ChannelAffine, type ChannelAffineArgs } from './layers.ts';

type T = tf.SymbolicTensor;
const zeros = 'zeros' as const;

/** One inverted-residual block of keras' list: output channels, stride, expansion (block_id is the index). */
interface BlockArgs {
  filters: number;
  stride: 1 | 2;
  expansion: number;
}

/** keras mobilenet_v2.py, alpha = 1.0: blocks 0..16 (block 0 is `expanded_conv_`). Shapes for a 224 input. */
const BLOCKS: BlockArgs[] = [
  { filters: 16, stride: 1, expansion: 1 },  // 0  expanded_conv  112x112x16
  { filters: 24, stride: 2, expansion: 6 },  // 1                  56x56x24
  { filters: 24, stride: 1, expansion: 6 },  // 2  add
  { filters: 32, stride: 2, expansion: 6 },  // 3                  28x28x32
  { filters: 32, stride: 1, expansion: 6 },  // 4  add
  { filters: 32, stride: 1, expansion: 6 },  // 5  add
  { filters: 64, stride: 2, expansion: 6 },  // 6                  14x14x64
  { filters: 64, stride: 1, expansion: 6 },  // 7  add
  { filters: 64, stride: 1, expansion: 6 },  // 8  add
  { filters: 64, stride: 1, expansion: 6 },  // 9  add
  { filters: 96, stride: 1, expansion: 6 },  // 10                 14x14x96
  { filters: 96, stride: 1, expansion: 6 },  // 11 add
  { filters: 96, stride: 1, expansion: 6 },  // 12 add
  { filters: 160, stride: 2, expansion: 6 }, // 13                 7x7x160
  { filters: 160, stride: 1, expansion: 6 }, // 14 add
  { filters: 160, stride: 1, expansion: 6 }, // 15 add
  { filters: 320, stride: 1, expansion: 6 }, // 16                 7x7x320
];
/** keras: last_block_filters = 1280 for alpha <= 1 */
const LAST_BLOCK_FILTERS = 1280;

/** keras BatchNormalization(epsilon=1e-3, momentum=0.999), as every MobileNetV2 BN layer. */
const bn = (name: string) => tf.layers.batchNormalization({ axis: -1, epsilon: 1e-3, momentum: 0.999, name });
const relu6 = (name: string) => tf.layers.reLU({ maxValue: 6, name });
const conv1x1 = (filters: number, name: string, padding: 'same' | 'valid' = 'same') =>
  tf.layers.conv2d({ filters, kernelSize: 1, padding, useBias: false, kernelInitializer: zeros, name });

/** [S, S, 3] -> Conv1_relu [S/2, S/2, 32]: Conv1_pad, Conv1 (3x3 stride 2, valid), bn_Conv1, Conv1_relu. */
function stem(net: Net, x: T): T {
  x = net.apply(tf.layers.zeroPadding2d({ padding: correctPad(x, 3), name: 'Conv1_pad' }), x);
  x = net.apply(tf.layers.conv2d({ filters: 32, kernelSize: 3, strides: 2, padding: 'valid', useBias: false, kernelInitializer: zeros, name: 'Conv1' }), x);
  x = net.apply(bn('bn_Conv1'), x);
  return net.apply(relu6('Conv1_relu'), x);
}

/**
 * keras `_inverted_res_block`: [h, w, c] -> [h/stride, w/stride, filters]. Expand (1x1 conv to c * expansion,
 * not in block 0), 3x3 depthwise (zero-padded by correct_pad and valid when stride 2), project (1x1 conv, no
 * activation), and `<prefix>add` of the block input when stride 1 and c == filters.
 */
function invertedResBlock(net: Net, inputs: T, id: number, a: BlockArgs): T {
  const inChannels = inputs.shape[3] as number;
  const prefix = id ? `block_${id}_` : 'expanded_conv_';
  let x = inputs;
  if (id) {
    x = net.apply(conv1x1(a.expansion * inChannels, `${prefix}expand`), x);
    x = net.apply(bn(`${prefix}expand_BN`), x);
    x = net.apply(relu6(`${prefix}expand_relu`), x);
  }
  if (a.stride === 2) x = net.apply(tf.layers.zeroPadding2d({ padding: correctPad(x, 3), name: `${prefix}pad` }), x);
  x = net.apply(tf.layers.depthwiseConv2d({
    kernelSize: 3, strides: a.stride, padding: a.stride === 1 ? 'same' : 'valid', useBias: false, depthwiseInitializer: zeros, name: `${prefix}depthwise`,
  }), x);
  x = net.apply(bn(`${prefix}depthwise_BN`), x);
  x = net.apply(relu6(`${prefix}depthwise_relu`), x);
  x = net.apply(conv1x1(a.filters, `${prefix}project`), x);
  x = net.apply(bn(`${prefix}project_BN`), x);
  // keras: Add()([inputs, x]), the block input first (the order fixes model.layers' order)
  if (inChannels === a.filters && a.stride === 1) return net.apply(tf.layers.add({ name: `${prefix}add` }), [inputs, x]);
  return x;
}

/** [h, w, 320] -> out_relu [h, w, 1280]: Conv_1 (1x1, valid), Conv_1_bn, out_relu. */
function top(net: Net, x: T): T {
  x = net.apply(conv1x1(LAST_BLOCK_FILTERS, 'Conv_1', 'valid'), x);
  x = net.apply(bn('Conv_1_bn'), x);
  return net.apply(relu6('out_relu'), x);
}

/**
 * MobileNetV2 (alpha 1.0) without its classifier: [S, S, 3] -> out_relu [S/32, S/32, 1280] (224 -> 7x7x1280),
 * or only up to the layer `stopAt` (the network then ends there; an unknown name builds it all).
 */
export function mobileNetV2(inputSize: number, opts: { stopAt?: string; inputTransform?: Omit<ChannelAffineArgs, 'name'> } = {}): tf.LayersModel {
  const net = new Net();
  const input = tf.input({ shape: [inputSize, inputSize, 3], name: 'input_1' });
  let x: T = input;
  if (opts.inputTransform) x = net.apply(new ChannelAffine({ ...opts.inputTransform, name: 'pipeline_input' }), x);
  const stages: ((x: T) => T)[] = [
    (y) => stem(net, y),
    ...BLOCKS.map((a, id) => (y: T) => invertedResBlock(net, y, id, a)),
    (y) => top(net, y),
  ];
  return buildUntil(net, input, x, stages, opts.stopAt, `mobilenetv2_1.00_${inputSize}`);
}
