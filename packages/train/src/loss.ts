/** Masked cross-entropy: mean over the non-<pad> target positions only. */
import { tf } from '@caption/core/tf';

export function maskedCrossEntropy(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Scalar {
  const [B, T, V] = logits.shape;
  const logp = tf.logSoftmax(logits.reshape([B * T, V]));                    // [B*T, V]
  const nll = tf.neg(tf.sum(tf.mul(tf.oneHot(targets.reshape([B * T]), V), logp), 1)); // [B*T]
  const mask = tf.cast(tf.notEqual(targets.reshape([B * T]), 0), 'float32');
  return tf.div(tf.sum(tf.mul(nll, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
}
