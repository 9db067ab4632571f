/**
 * Activations, both as layers of their own and fused into Conv/Dense through their `activation` setting:
 * one mapping from Keras' serialized activation names to ONNX ops serves both, so a fused activation and
 * the equivalent standalone layer always produce the same graph. Activations ONNX (opset 17) lacks (swish,
 * gelu, mish) are spelled out from elementwise ops.
 */
import type { GraphBuilder } from '../graph.ts';
import { graphAxis, one, fail, type Ctx, type Converter } from './context.ts';

/** Whether a Conv/Dense layer fuses a (non-linear) activation, i.e. whether its own node needs a suffix. */
export function hasActivation(c: Ctx): boolean {
  const a = c.config.activation;
  return a !== undefined && a !== null && a !== 'linear';
}

/** Keras activation (by its serialized name) applied to `x`; the last node is named `name`. */
export function activation(c: Ctx, x: string, act: unknown, name = c.layer.name): string {
  const g = c.g;
  switch (act ?? 'linear') {
    case 'linear':
      return x;
    case 'relu':
      return g.node('Relu', [x], {}, name);
    case 'relu6':
      return clip(g, x, 0, 6, name);
    case 'sigmoid':
      return g.node('Sigmoid', [x], {}, name);
    case 'tanh':
      return g.node('Tanh', [x], {}, name);
    case 'softmax':
      return g.node('Softmax', [x], { axis: graphAxis(c, -1) }, name);
    case 'logSoftmax':
    case 'log_softmax':
      return g.node('LogSoftmax', [x], { axis: graphAxis(c, -1) }, name);
    case 'elu':
      return g.node('Elu', [x], { alpha: { float: 1 } }, name);
    case 'selu':
      return g.node('Selu', [x], {}, name);
    case 'softplus':
      return g.node('Softplus', [x], {}, name);
    case 'softsign':
      return g.node('Softsign', [x], {}, name);
    case 'hardSigmoid':
    case 'hard_sigmoid':
      return g.node('HardSigmoid', [x], { alpha: { float: 0.2 }, beta: { float: 0.5 } }, name);
    case 'swish':
      return g.node('Mul', [x, g.node('Sigmoid', [x], {}, `${name}_sigmoid`)], {}, name);
    case 'gelu': {
      // x * 0.5 * (1 + erf(x / sqrt 2)) (ONNX Gelu needs opset 20)
      const e = g.node('Erf', [g.node('Mul', [x, g.constF32(`${name}_rsqrt2`, [], [Math.SQRT1_2])], {}, `${name}_scaled`)], {}, `${name}_erf`);
      const cdf = g.node('Mul', [g.node('Add', [e, g.constF32(`${name}_one`, [], [1])], {}, `${name}_1p`), g.constF32(`${name}_half`, [], [0.5])], {}, `${name}_cdf`);
      return g.node('Mul', [x, cdf], {}, name);
    }
    case 'mish': {
      const sp = g.node('Softplus', [x], {}, `${name}_softplus`);
      return g.node('Mul', [x, g.node('Tanh', [sp], {}, `${name}_tanh`)], {}, name);
    }
    default:
      return fail(c, `unsupported activation ${JSON.stringify(act)}`);
  }
}

function clip(g: GraphBuilder, x: string, lo: number, hi: number, name: string): string {
  return g.node('Clip', [x, g.constF32(`${name}_min`, [], [lo]), g.constF32(`${name}_max`, [], [hi])], {}, name);
}

export const ACTIVATION_CONVERTERS: Record<string, Converter> = {
  Activation: (c) => activation(c, one(c), c.config.activation, c.layer.name),

  ReLU: (c) => {
    const max = c.config.maxValue;
    if (max === null || max === undefined) return c.g.node('Relu', [one(c)], {}, c.layer.name);
    return clip(c.g, one(c), 0, Number(max), c.layer.name);
  },
  LeakyReLU: (c) => c.g.node('LeakyRelu', [one(c)], { alpha: { float: Number(c.config.alpha ?? 0.3) } }, c.layer.name),
  ELU: (c) => c.g.node('Elu', [one(c)], { alpha: { float: Number(c.config.alpha ?? 1) } }, c.layer.name),
  ThresholdedReLU: (c) => c.g.node('ThresholdedRelu', [one(c)], { alpha: { float: Number(c.config.theta ?? 1) } }, c.layer.name),
  Softmax: (c) => c.g.node('Softmax', [one(c)], { axis: graphAxis(c, Number(c.config.axis ?? -1)) }, c.layer.name),
};
