/**
 * Masked cross-entropy: mean over the non-<pad> target positions only. With label smoothing ε the target is
 * (1 − ε)·one-hot + ε/V (Szegedy et al. 2016), i.e. (1 − ε)·NLL + ε·mean over the vocabulary of −log p: it keeps
 * a small model on a small data set from driving every caption word to probability 1. With per-caption `weights`
 * w it is Σ w_b·NLL_bt / #tokens: the policy-gradient loss of self-critical training when w is the advantage.
 */
import { tf } from '@caption/core/tf';

export function maskedCrossEntropy(logits: tf.Tensor3D, targets: tf.Tensor2D, smoothing = 0, weights?: tf.Tensor1D): tf.Scalar {
  const [B, T, V] = logits.shape;
  const logp = tf.logSoftmax(logits.reshape([B * T, V]));                    // [B*T, V]
  let nll = tf.neg(tf.sum(tf.mul(tf.oneHot(targets.reshape([B * T]), V), logp), 1)); // [B*T]
  if (smoothing > 0) nll = tf.add(tf.mul(nll, 1 - smoothing), tf.mul(tf.neg(tf.mean(logp, 1)), smoothing));
  // per-caption weights (self-critical: the advantage) scale each caption's tokens; the mean stays per token
  if (weights) nll = tf.mul(nll, tf.tile(weights.reshape([B, 1]), [1, T]).reshape([B * T]));
  const mask = tf.cast(tf.notEqual(targets.reshape([B * T]), 0), 'float32');
  return tf.div(tf.sum(tf.mul(nll, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
}
