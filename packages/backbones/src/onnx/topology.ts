/**
 * Walking the Keras functional graph backwards from the cut layer, so that only the layers the features
 * depend on get converted (a backbone's classifier head past the cut is never looked at), each exactly
 * once and after its inputs. This is also where the topologies the converter can't express are rejected
 * up front (shared layers, multi-output layers, several inputs, tensors other than 2-D to 4-D), so the
 * layer converters can assume a simple chain-or-DAG of single-output layers.
 */
import type { tf } from '@caption/core/tf';

export type Layer = tf.layers.Layer;
export type Shape = (number | null)[];

/** The parts of a TF.js topology Node the converter reads (not exported by @tensorflow/tfjs). */
interface KerasNode {
  inboundLayers: Layer[];
  nodeIndices: number[];
  tensorIndices: number[];
  inputShapes: Shape | Shape[];
  outputShapes: Shape | Shape[];
}

/** What the walk calls to emit a layer once its inputs are emitted; each returns the layer's output tensor. */
export interface LayerEmitter {
  /** The model's (single) input layer. */
  input(layer: Layer): string;
  /** Any other layer: its input tensors and Keras (NHWC) shapes, each checked to be 2-D, 3-D or 4-D. */
  layer(layer: Layer, cls: string, inputs: string[], inShapes: Shape[], outShape: Shape): string;
}

/** Emit `cut` and everything it depends on; returns the cut's output tensor and the input layer reached. */
export function walkToCut(cut: Layer, cutLayer: string, emit: LayerEmitter): { last: string; inputLayer: Layer } {
  const emitted = new Map<Layer, string>(); // layer -> ONNX tensor (NCHW) holding its output
  let inputLayer: Layer | undefined;

  const visit = (layer: Layer, path: Set<Layer>): string => {
    const done = emitted.get(layer);
    if (done !== undefined) return done;
    if (path.has(layer)) throw new Error(`keras-to-onnx: cycle through layer '${layer.name}'`);
    const cls = layer.getClassName();
    let out: string;
    if (cls === 'InputLayer') {
      if (inputLayer && inputLayer !== layer) {
        throw new Error(`keras-to-onnx: '${cutLayer}' depends on more than one input ('${inputLayer.name}', '${layer.name}')`);
      }
      inputLayer = layer;
      out = emit.input(layer);
    } else {
      const node = soleInboundNode(layer);
      path.add(layer);
      const inputs = node.inboundLayers.map((l, i) => {
        if (node.tensorIndices[i] !== 0 || node.nodeIndices[i] !== 0) {
          throw new Error(`keras-to-onnx: layer '${layer.name}' (${cls}) reads output ${node.tensorIndices[i]} of node ${node.nodeIndices[i]} of '${l.name}'; only single-output, unshared layers are supported`);
        }
        return visit(l, path);
      });
      path.delete(layer);
      const inShapes = shapeList(node.inputShapes);
      const outShape = shapeList(node.outputShapes)[0];
      for (const s of [...inShapes, outShape]) {
        if (s.length < 2 || s.length > 4) {
          throw new Error(`keras-to-onnx: layer '${layer.name}' (${cls}) has a ${s.length}-D tensor [${s.join(', ')}]; only 2-D, 3-D and 4-D (NHWC) tensors are supported`);
        }
      }
      out = emit.layer(layer, cls, inputs, inShapes, outShape);
    }
    emitted.set(layer, out);
    return out;
  };

  const last = visit(cut, new Set());
  if (!inputLayer) throw new Error(`keras-to-onnx: layer '${cutLayer}' is not connected to an input layer`);
  return { last, inputLayer };
}

/** The Keras output shape of a (non-input) layer. */
export function outputShape(layer: Layer): Shape {
  return shapeList(soleInboundNode(layer).outputShapes)[0];
}

/** The shape of an input layer, which must be an image batch. */
export function soleInboundShape(input: Layer): Shape {
  const s = outputShape(input);
  if (s.length !== 4) throw new Error(`keras-to-onnx: input '${input.name}' has shape [${s.join(', ')}]; expected [N, H, W, C]`);
  return s;
}

function shapeList(s: Shape | Shape[]): Shape[] {
  return Array.isArray(s[0]) || s.length === 0 ? (s as Shape[]) : [s as Shape];
}

function soleInboundNode(layer: Layer): KerasNode {
  const nodes = (layer as unknown as { inboundNodes: KerasNode[] }).inboundNodes;
  if (nodes.length !== 1) {
    throw new Error(`keras-to-onnx: layer '${layer.name}' (${layer.getClassName()}) has ${nodes.length} inbound nodes; shared layers are not supported`);
  }
  return nodes[0];
}
