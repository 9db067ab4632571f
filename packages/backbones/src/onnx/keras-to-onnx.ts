/**
 * Keras (TF.js LayersModel) -> ONNX converter for the CNN backbones the features stage uses.
 *
 * Walks the functional topology backwards from the cut layer to the (single) input layer, converts each
 * layer with its weights, and emits an ONNX ModelProto (IR 8, opset 17):
 *   image [N, H, W, C] float32 (NHWC, like the Keras input) -> Transpose to NCHW once -> layers -> features
 *   [N, L, D]: a 4-D cut (feature map) is transposed back to NHWC and reshaped to [N, h*w, D]; a 2-D cut
 *   (a vector: Dense, global pooling, Flatten) becomes [N, 1, D]; a 3-D cut [N, L, D] is kept.
 * Layout inside the graph: every 4-D tensor is NCHW; 2-D and 3-D tensors keep the Keras layout. Layers that
 * change rank (Flatten, Reshape, Dense on a feature map) go through NHWC, so Keras' element order (Flatten of
 * NHWC: row, column, channel) is kept exactly.
 * Supported (SUPPORTED_LAYERS): Conv2D, DepthwiseConv2D, SeparableConv2D (same/valid, strides, dilation,
 * bias, fused activation), BatchNormalization (channel axis of 4-D or 2-D tensors; scale/center flags),
 * Activation, ReLU (max_value -> Clip), LeakyReLU, ELU, ThresholdedReLU, Softmax, ZeroPadding2D, Cropping2D,
 * MaxPooling2D, AveragePooling2D (same excludes the padding, like TF), GlobalAveragePooling2D /
 * GlobalMaxPooling2D (keepdims or not), Flatten, Reshape, Dense (2-D, 3-D and 4-D inputs), Concatenate, Add,
 * Multiply, Maximum, Minimum, Average (numpy broadcasting between inputs of one rank, e.g. the
 * squeeze-excite [N,H,W,C] x [N,1,1,C]), Rescaling (scalar or per-channel scale/offset), Normalization
 * (Keras' preprocessing layer: (x - mean) / max(sqrt(variance), 1e-7)), ChannelAffine (the pipeline's input
 * transform: channel reorder, per-channel scale and offset), and the inference-time identities (Dropout,
 * SpatialDropout2D, Gaussian*, AlphaDropout). Activations: linear, relu, relu6, sigmoid, tanh, softmax,
 * log_softmax, elu, selu, softplus, softsign, hard_sigmoid, swish (x * sigmoid(x)), gelu, mish.
 * BatchNormalization is emitted as an ONNX BatchNormalization op; ONNX Runtime folds it into the
 * preceding Conv itself (and fuses the following Relu/Clip) at graph optimisation time.
 * This file is the entry point that frames the graph (input transpose, [N, L, D] output, model metadata);
 * topology.ts walks the Keras graph, layers/ holds the per-layer converters (one table: layers/index.ts)
 * and graph.ts the ONNX node/initializer builder.
 */
import onnxProto from 'onnx-proto';
import type { onnx as P } from 'onnx-proto';
import type { tf } from '@caption/core/tf';
import { GraphBuilder, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME, valueInfo } from './graph.ts';
import { CONVERTERS, type Config } from './layers/index.ts';
import { outputShape, soleInboundShape, walkToCut, type Layer } from './topology.ts';

export { ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from './graph.ts';

const { onnx } = onnxProto;

/** Bump when the emitted graph changes for the same Keras model (callers caching .onnx files key on it). */
export const CONVERTER_VERSION = 2;
export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;

export const SUPPORTED_LAYERS: readonly string[] = ['InputLayer', ...Object.keys(CONVERTERS)].sort();

/** Convert `model` from its input up to (and including) `cutLayer` into serialized ONNX ModelProto bytes. */
export function buildOnnxGraph(model: tf.LayersModel, cutLayer: string): Uint8Array {
  let cut: Layer;
  try {
    cut = model.getLayer(cutLayer);
  } catch {
    throw new Error(`keras-to-onnx: model '${model.name}' has no layer '${cutLayer}'`);
  }
  const g = new GraphBuilder();
  const { last, inputLayer } = walkToCut(cut, cutLayer, {
    input: (layer) => g.node('Transpose', [ONNX_INPUT_NAME], { perm: [0, 3, 1, 2] }, `${layer.name}_nchw`),
    layer: (layer, cls, inputs, inShapes, outShape) => {
      const convert = CONVERTERS[cls];
      if (!convert) {
        throw new Error(`keras-to-onnx: unsupported layer '${layer.name}' of class ${cls} (supported: ${Object.keys(CONVERTERS).sort().join(', ')})`);
      }
      return convert({ g, layer, cls, config: layer.getConfig() as Config, inputs, inShapes, outShape });
    },
  });

  const inShape = soleInboundShape(inputLayer);
  const outShape = cut.getClassName() === 'InputLayer' ? inShape : outputShape(cut);
  const d = outShape[outShape.length - 1];
  if (d === null) throw new Error(`keras-to-onnx: channel count of '${cutLayer}' is unknown`);
  const spatial = outShape.slice(1, -1);
  const L = spatial.every((v) => v !== null) ? (spatial as number[]).reduce((a, b) => a * b, 1) : 'L';
  const keras = outShape.length === 4 ? g.node('Transpose', [last], { perm: [0, 2, 3, 1] }, `${cutLayer}_nhwc`) : last;
  g.node('Reshape', [keras, g.constI64('features_shape', [3], [0, -1, d])], {}, ONNX_OUTPUT_NAME);

  const graph: P.IGraphProto = {
    name: `${model.name}:${cutLayer}`,
    node: g.nodes,
    initializer: g.initializers,
    input: [valueInfo(ONNX_INPUT_NAME, ['N', inShape[1] ?? 'H', inShape[2] ?? 'W', inShape[3] ?? 'C'])],
    output: [valueInfo(ONNX_OUTPUT_NAME, ['N', L, d])],
  };
  const proto: P.IModelProto = {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: '@caption/features keras-to-onnx',
    producerVersion: String(CONVERTER_VERSION),
    graph,
    metadataProps: [
      { key: 'keras_model', value: model.name },
      { key: 'cut_layer', value: cutLayer },
      { key: 'layout', value: 'input NHWC float32; output [N, L, D] (L = h*w of a feature map, 1 for a vector)' },
    ],
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(proto)).finish();
}
