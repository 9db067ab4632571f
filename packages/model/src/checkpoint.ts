/**
 * Checkpoint = TF.js weights format (`model.json` with a weightsManifest + `weights.bin`), the model config
 * and the vocabulary: everything needed to caption a new image, nothing else. This is the codec between a
 * model and those files; core's catalog moves (and verifies) the bytes.
 */
import { PipelineError, canonicalJson, type CheckpointFiles, type Vocabulary } from '@caption/core';
import { tf } from '@caption/core/tf';
import { createCaptionModel, type CaptionModel, type CaptionModelConfig } from './registry.ts';

export const CHECKPOINT_FORMAT = 'caption-checkpoint/1';

export interface Checkpoint {
  model: CaptionModel;
  vocabulary: Vocabulary;
  extra: Record<string, unknown>;  // e.g. backbone the features came from
}

/** Files of a checkpoint, relative to its directory; `weights` (model.weights order) replace the model's own. */
export async function encodeCheckpoint(ckpt: Checkpoint, weights?: readonly tf.Tensor[]): Promise<CheckpointFiles> {
  const named = Object.entries(ckpt.model.weights).map(([name, tensor], i) => ({ name, tensor: weights?.[i] ?? tensor }));
  const { data, specs } = await tf.io.encodeWeights(named);
  const modelJson = {
    format: CHECKPOINT_FORMAT,
    config: ckpt.model.config,
    extra: ckpt.extra,
    weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
  };
  return {
    'model.json': canonicalJson(modelJson),
    'weights.bin': new Uint8Array(data as ArrayBuffer),
    'vocabulary.json': canonicalJson(ckpt.vocabulary),
  };
}

/** A model built from checkpoint files (`where` names them in errors). */
export function decodeCheckpoint(files: CheckpointFiles, where: string): Checkpoint {
  const text = (f: keyof CheckpointFiles) => (typeof files[f] === 'string' ? files[f] as string : Buffer.from(files[f]).toString('utf8'));
  const modelJson = JSON.parse(text('model.json'));
  const vocabulary = JSON.parse(text('vocabulary.json')) as Vocabulary;
  const bin = files['weights.bin'] as Uint8Array;
  const values = tf.io.decodeWeights(
    bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer,
    modelJson.weightsManifest[0].weights,
  );
  const model = createCaptionModel(modelJson.config as CaptionModelConfig, 0);
  for (const [name, v] of Object.entries(model.weights)) {
    if (!values[name]) throw new PipelineError('input', `checkpoint ${where} lacks weight ${name}`);
    v.assign(values[name]);
    values[name].dispose();
  }
  return { model, vocabulary, extra: modelJson.extra ?? {} };
}
