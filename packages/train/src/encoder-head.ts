/**
 * `train.encoderHead`: the backbone layers between the features' cut and the layer named here train with the
 * decoder. Their starting weights are the backbone's own, from the same weights spec the features stage used
 * (checked against the features' weights hash), with batch normalisation folded into the convolutions.
 * MobileNetV2 features cut at a block's output (`block_<n>_project_BN` or `block_<n>_add`) only.
 */
import { PipelineError } from '@caption/core';
import { tf } from '@caption/core/tf';
import { BACKBONES, loadKerasBackbone } from '@caption/backbones';
import type { EncoderHeadConfig, InvertedResidual } from '@caption/model';

/** What the features manifest says about the features (its extra and params). */
export interface FeaturesRecord {
  extra?: Record<string, unknown>;
  params?: Record<string, unknown>;
}

export interface EncoderHead {
  config: EncoderHeadConfig;
  values: Record<string, tf.Tensor>;   // the model's head weights by name
}

const BLOCK_OUTPUT = /^block_(\d+)_(project_BN|add)$/;
const HEAD_END = /^block_(\d+)_(expand_relu|project_BN|add)$/;

export async function loadEncoderHead(to: string, features: FeaturesRecord, seed: number, lrScale = 1): Promise<EncoderHead> {
  const extra = features.extra ?? {};
  const from = String(extra.cut_layer);
  const fail = (why: string) => new PipelineError('config', `train.encoderHead '${to}': ${why}`);
  if (extra.backbone !== 'mobilenet_v2') throw fail(`only mobilenet_v2 features can train a head (these are ${String(extra.backbone)})`);
  const start = BLOCK_OUTPUT.exec(from);
  if (!start) throw fail(`the features must be cut at a block's output (features.cutLayer: block_<n>_project_BN or block_<n>_add), not '${from}'`);
  const end = HEAD_END.exec(to);
  if (!end || Number(end[1]) <= Number(start[1])) throw fail(`expected block_<n>_expand_relu, _project_BN or _add with n > ${start[1]} (the features' cut is ${from})`);

  const weights = String(features.params?.weights ?? 'pretrained');
  const atCut = await loadKerasBackbone(BACKBONES.mobilenet_v2, { weights, seed, cutLayer: from });
  if (atCut.weightsHash !== extra.weights_sha256) throw fail(`the backbone's weights '${weights}' hash to ${atCut.weightsHash.slice(0, 16)}…, the features' to ${String(extra.weights_sha256).slice(0, 16)}…`);
  const model = (await loadKerasBackbone(BACKBONES.mobilenet_v2, { weights, seed, cutLayer: to })).extractor;
  const [L, C] = extra.shape as [number, number];
  const side = Math.round(Math.sqrt(L));
  const blocks: InvertedResidual[] = [];
  const values: Record<string, tf.Tensor> = {};
  for (let n = Number(start[1]) + 1; n <= Number(end[1]); n++) {
    const name = `block_${n}`;
    const last = n === Number(end[1]) && end[2] === 'expand_relu';
    const expand = folded(model, `${name}_expand`);
    values[`head/${name}/expand/kernel`] = expand.kernel.reshape([expand.kernel.shape[2]!, expand.kernel.shape[3]!]);
    values[`head/${name}/expand/bias`] = expand.bias;
    const e = expand.bias.shape[0];
    if (last) {
      blocks.push({ name, expand: e, stride: 1 });
      break;
    }
    const depthwise = folded(model, `${name}_depthwise`);
    const project = folded(model, `${name}_project`);
    values[`head/${name}/depthwise/kernel`] = depthwise.kernel;
    values[`head/${name}/depthwise/bias`] = depthwise.bias;
    values[`head/${name}/project/kernel`] = project.kernel.reshape([e, project.bias.shape[0]]);
    values[`head/${name}/project/bias`] = project.bias;
    const strides = (model.getLayer(`${name}_depthwise`).getConfig().strides as number[] | number);
    const stride = (Array.isArray(strides) ? strides[0] : strides) as 1 | 2;
    blocks.push({ name, expand: e, stride, filters: project.bias.shape[0] });
  }
  // stored divided by the learning-rate scale (the forward pass multiplies it back)
  const stored = lrScale === 1 ? values : Object.fromEntries(Object.entries(values).map(([k, v]) => [k, tf.tidy(() => tf.div(v, lrScale))]));
  if (stored !== values) tf.dispose(Object.values(values));
  const config: EncoderHeadConfig = { backbone: 'mobilenet_v2', from, to, grid: [side, side], channels: C, blocks, ...(lrScale === 1 ? {} : { lrScale }) };
  return { config, values: stored };
}

/** A convolution followed by its `<conv>_BN` layer, as one kernel and bias: kernel·s, β − μ·s with s = γ/√(σ² + ε). */
function folded(model: tf.LayersModel, conv: string): { kernel: tf.Tensor; bias: tf.Tensor1D } {
  return tf.tidy(() => {
    const [kernel] = model.getLayer(conv).getWeights();
    const bn = model.getLayer(`${conv}_BN`);
    const [gamma, beta, mean, variance] = bn.getWeights();
    const epsilon = Number(bn.getConfig().epsilon ?? 1e-3);
    const scale = tf.div(gamma, tf.sqrt(tf.add(variance, epsilon)));
    // the scale multiplies output channels: a conv kernel's last axis, a depthwise kernel's [.., C, 1] channel axis
    const depthwise = conv.endsWith('_depthwise');
    const k = depthwise ? tf.mul(kernel, scale.reshape([1, 1, -1, 1])) : tf.mul(kernel, scale);
    return { kernel: k, bias: tf.sub(beta, tf.mul(mean, scale)) as tf.Tensor1D };
  });
}
