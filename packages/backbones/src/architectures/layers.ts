/**
 * Two serializable TF.js layers the backbones need that TF.js lacks. Importing this module registers
 * them, so a model.json that uses them (ours, or a Keras export with `Normalization`) deserializes.
 *
 * - ChannelAffine: the pipeline's input transform, `y[..., c] = x[..., source[c]] * scale[c] + offset[c]`,
 *   with no weights. The pipeline decodes RGB floats in [0,1] (decode.ts); a backbone that expects
 *   something else gets one ChannelAffine layer named `pipeline_input` right after its input, so the
 *   TF.js model and the ONNX graph converted from it are the same network.
 * - Normalization: Keras' `layers.Normalization` (inference only): `(x - mean) / max(sqrt(variance), 1e-7)`
 *   on the channel axis, with Keras' weights `mean`, `variance`, `count` (or constant `mean`/`variance`
 *   given in the config, as Keras allows).
 */
import { tf } from '@caption/core/tf';

type Shape = (number | null)[];
interface BaseArgs {
  name?: string;
  trainable?: boolean;
  dtype?: 'float32';
  inputShape?: Shape;
  batchInputShape?: Shape;
}

/** Keras' epsilon, the floor of the Normalization denominator. */
export const KERAS_EPSILON = 1e-7;

export interface ChannelAffineArgs extends BaseArgs {
  /** source channel of each output channel (default identity) */
  source?: number[] | null;
  /** multiplier: one number for every channel, or one per channel */
  scale: number | number[];
  /** added after the multiplication: one number, or one per channel */
  offset?: number | number[];
}

export class ChannelAffine extends tf.layers.Layer {
  static className = 'ChannelAffine';
  readonly source: number[] | null;
  readonly scale: number | number[];
  readonly offset: number | number[];

  constructor(args: ChannelAffineArgs) {
    super(args);
    this.source = args.source ?? null;
    this.scale = args.scale;
    this.offset = args.offset ?? 0;
    for (const v of [this.scale, this.offset, this.source ?? []].flat()) {
      if (!Number.isFinite(v)) throw new Error(`ChannelAffine '${this.name}': non-finite parameter ${v}`);
    }
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const c = s[s.length - 1];
    for (const [what, v] of [['source', this.source], ['scale', this.scale], ['offset', this.offset]] as const) {
      if (Array.isArray(v) && c !== null && v.length !== c) {
        throw new Error(`ChannelAffine '${this.name}': ${what} has ${v.length} entries for ${c} channels`);
      }
    }
    return s;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      let x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (this.source) x = tf.gather(x, tf.tensor1d(this.source, 'int32'), x.rank - 1);
      return tf.add(tf.mul(x, this.scale), this.offset);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), source: this.source, scale: this.scale, offset: this.offset };
  }
}

export interface NormalizationArgs extends BaseArgs {
  axis?: number | number[];
  /** constant statistics (Keras allows them in the config instead of weights) */
  mean?: number | number[] | null;
  variance?: number | number[] | null;
  invert?: boolean;
}

export class Normalization extends tf.layers.Layer {
  static className = 'Normalization';
  readonly axis: number;
  readonly constMean: number | number[] | null;
  readonly constVariance: number | number[] | null;
  private meanVar?: tf.LayerVariable;
  private varianceVar?: tf.LayerVariable;

  constructor(args: NormalizationArgs) {
    super(args);
    const axis = Array.isArray(args.axis) ? args.axis : [args.axis ?? -1];
    if (axis.length !== 1) throw new Error(`Normalization '${this.name}': only one axis is supported, got [${axis}]`);
    this.axis = axis[0];
    if (args.invert) throw new Error(`Normalization '${this.name}': invert=true is not supported`);
    this.constMean = args.mean ?? null;
    this.constVariance = args.variance ?? null;
    if ((this.constMean === null) !== (this.constVariance === null)) {
      throw new Error(`Normalization '${this.name}': give both mean and variance, or neither`);
    }
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const a = this.axis < 0 ? this.axis + s.length : this.axis;
    if (a !== s.length - 1) throw new Error(`Normalization '${this.name}': only the last (channel) axis is supported, got axis ${this.axis} of a ${s.length}-D input`);
    const c = s[a];
    if (c === null) throw new Error(`Normalization '${this.name}': the channel count must be known`);
    if (this.constMean === null) {
      this.meanVar = this.addWeight('mean', [c], 'float32', tf.initializers.zeros(), undefined, false);
      this.varianceVar = this.addWeight('variance', [c], 'float32', tf.initializers.ones(), undefined, false);
      this.addWeight('count', [], 'float32', tf.initializers.zeros(), undefined, false);
    }
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }

  /** mean and the denominator max(sqrt(variance), 1e-7), per channel, as the layer computes them. */
  statistics(): { mean: Float32Array; denominator: Float32Array } {
    const mean = this.meanVar ? (this.meanVar.read().dataSync() as Float32Array) : Float32Array.from([this.constMean ?? 0].flat());
    const variance = this.varianceVar ? (this.varianceVar.read().dataSync() as Float32Array) : Float32Array.from([this.constVariance ?? 1].flat());
    const denominator = variance.map((v) => Math.max(Math.fround(Math.sqrt(v)), Math.fround(KERAS_EPSILON)));
    return { mean: Float32Array.from(mean), denominator };
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const mean = this.meanVar ? this.meanVar.read() : tf.tensor([this.constMean ?? 0].flat());
      const variance = this.varianceVar ? this.varianceVar.read() : tf.tensor([this.constVariance ?? 1].flat());
      return tf.div(tf.sub(x, mean), tf.maximum(tf.sqrt(variance), KERAS_EPSILON));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), axis: this.axis, mean: this.constMean, variance: this.constVariance };
  }
}

tf.serialization.registerClass(ChannelAffine);
tf.serialization.registerClass(Normalization);
