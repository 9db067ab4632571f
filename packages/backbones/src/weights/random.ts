/**
 * `features.weights: random`: seeded random weights, for tests only (the features are meaningless).
 * Every weight gets its own stream, `deriveSeed(seed, '<layer>/<weight>')`, so the values do not depend
 * on the order layers are visited, and two backbones sharing an architecture (inception_v3 and
 * inception_v3_pooled) get the same network. The scales keep activations finite and non-trivial through
 * deep stacks (so the features still depend on the image after 16 EfficientNet blocks or 15 VGG layers),
 * and every kind of parameter (biases, BatchNorm statistics) is non-zero, so the ONNX conversion of each
 * is exercised:
 *   kernels (kernel, depthwise_kernel, pointwise_kernel): He uniform, +-sqrt(6 / fan_in) (keeps the
 *   activation scale through ReLU-like layers; with +-sqrt(3 / fan_in) the image signal had faded to 1e-5
 *   of the bias-driven output by EfficientNet's top_activation);
 *   bias, beta, moving_mean: uniform +-0.1;  gamma: 0.8..1.2;  moving_variance: 0.8..1.2.
 */
import { deriveSeed, Rng } from '@caption/core';

export const RANDOM_WEIGHTS_NOTE = 'random (seeded, for tests only)';

/** Seeded values for weight `key` (`kernel`, `bias`, `gamma`, ...) of `layer`, shape `shape`. */
export function randomWeight(seed: number, layer: string, key: string, shape: number[]): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const rng = new Rng(deriveSeed(seed, `${layer}/${key}`));
  const out = new Float32Array(size);
  let lo = -0.1;
  let hi = 0.1;
  if (/kernel$/.test(key)) {
    // fan_in: everything but the last axis; a depthwise kernel [kh, kw, C, m] reads kh*kw inputs per output
    const fanIn = key === 'depthwise_kernel' ? shape[0] * shape[1] : size / shape[shape.length - 1];
    hi = Math.sqrt(6 / Math.max(1, fanIn));
    lo = -hi;
  } else if (key === 'gamma' || key === 'moving_variance') {
    lo = 0.8;
    hi = 1.2;
  }
  const span = hi - lo;
  for (let i = 0; i < size; i++) out[i] = lo + span * rng.next();
  return out;
}
