/**
 * Per-channel affine layers: BatchNormalization and the preprocessing layers that backbones put in front
 * of their first conv (Rescaling, Normalization, the pipeline's ChannelAffine). Keeping the preprocessing
 * inside the graph means the ONNX model takes the same [0, 1] RGB input as the Keras extractor, so no
 * caller has to know a backbone's normalization.
 */
import { fail, graphAxis, need, one, weights, type Converter, type Ctx } from './context.ts';

export const AFFINE_CONVERTERS: Record<string, Converter> = {
  /** Emitted as is: ONNX Runtime folds it into the preceding Conv at graph optimisation time. */
  BatchNormalization: (c) => {
    const rank = c.outShape.length;
    const axis = Number(c.config.axis);
    if (rank === 3) fail(c, 'a 3-D input is not supported (ONNX BatchNormalization normalizes axis 1)');
    if (axis !== -1 && axis !== rank - 1) fail(c, `axis=${axis}: only the channel axis (-1 / ${rank - 1}) is supported`);
    const ch = c.outShape[rank - 1];
    if (ch === null) fail(c, 'unknown channel count');
    const wts = weights(c);
    const n = ch as number;
    const gamma = c.config.scale === false ? new Float32Array(n).fill(1) : need(c, wts, 'gamma').data;
    const beta = c.config.center === false ? new Float32Array(n) : need(c, wts, 'beta').data;
    const name = c.layer.name;
    return c.g.node(
      'BatchNormalization',
      [
        one(c),
        c.g.constF32(`${name}_scale`, [n], gamma),
        c.g.constF32(`${name}_B`, [n], beta),
        c.g.constF32(`${name}_mean`, [n], need(c, wts, 'moving_mean').data),
        c.g.constF32(`${name}_var`, [n], need(c, wts, 'moving_variance').data),
      ],
      { epsilon: { float: Number(c.config.epsilon) } },
      name,
    );
  },

  Rescaling: (c) => {
    const n = c.layer.name;
    const scaled = c.g.node('Mul', [one(c), channelConst(c, `${n}_scale`, c.config.scale)], {}, `${n}_mul`);
    return c.g.node('Add', [scaled, channelConst(c, `${n}_offset`, c.config.offset ?? 0)], {}, n);
  },

  /** Keras Normalization: (x - mean) / max(sqrt(variance), 1e-7), the statistics folded into constants. */
  Normalization: (c) => {
    const n = c.layer.name;
    const layer = c.layer as unknown as { statistics?: () => { mean: Float32Array; denominator: Float32Array } };
    if (typeof layer.statistics !== 'function') fail(c, 'not the Normalization layer of architectures/layers.ts');
    const { mean, denominator } = layer.statistics();
    const centered = c.g.node('Sub', [one(c), channelConst(c, `${n}_mean`, Array.from(mean))], {}, `${n}_sub`);
    return c.g.node('Div', [centered, channelConst(c, `${n}_denominator`, Array.from(denominator))], {}, n);
  },

  /** The pipeline's input transform (architectures/layers.ts): y[c] = x[source[c]] * scale[c] + offset[c]. */
  ChannelAffine: (c) => {
    const n = c.layer.name;
    let x = one(c);
    const source = c.config.source as number[] | null | undefined;
    if (source && source.some((v, i) => v !== i)) {
      x = c.g.node('Gather', [x, c.g.constI64(`${n}_source`, [source.length], source)], { axis: graphAxis(c, -1) }, `${n}_gather`);
    }
    const scaled = c.g.node('Mul', [x, channelConst(c, `${n}_scale`, c.config.scale)], {}, `${n}_mul`);
    return c.g.node('Add', [scaled, channelConst(c, `${n}_offset`, c.config.offset ?? 0)], {}, n);
  },
};

/**
 * A scalar or per-channel constant that broadcasts against the layer's input in the graph: [] for a
 * scalar, [1, C, 1, 1] for a 4-D (NCHW) tensor, [C] otherwise.
 */
function channelConst(c: Ctx, name: string, value: unknown): string {
  if (typeof value === 'number') return c.g.constF32(name, [], [value]);
  const values = value as number[];
  if (!Array.isArray(values) || values.some((v) => typeof v !== 'number')) fail(c, `${name}: expected a number or a list of numbers, got ${JSON.stringify(value)}`);
  const shape = c.inShapes[0];
  const ch = shape[shape.length - 1];
  if (values.length === 1) return c.g.constF32(name, [], values);
  if (ch !== null && values.length !== ch) fail(c, `${name}: ${values.length} values for ${ch} channels`);
  return c.g.constF32(name, shape.length === 4 ? [1, values.length, 1, 1] : [values.length], values);
}
