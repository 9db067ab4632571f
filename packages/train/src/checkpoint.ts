/**
 * Checkpoint = TF.js weights format (`model.json` with a weightsManifest + `weights.bin`), the model config
 * and the vocabulary: everything needed to caption a new image, nothing else.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { canonicalJson } from '@caption/core';
import { tf } from '@caption/core/tf';
import type { Vocabulary } from '@caption/tokenize';
import { createCaptionModel, type CaptionModel, type CaptionModelConfig } from './models/index.ts';

export const CHECKPOINT_FORMAT = 'caption-checkpoint/1';

export interface Checkpoint {
  model: CaptionModel;
  vocabulary: Vocabulary;
  extra: Record<string, unknown>;  // e.g. backbone the features came from
}

/** Files of a checkpoint, relative to its directory; `weights` (model.weights order) replace the model's own. */
export async function encodeCheckpoint(ckpt: Checkpoint, weights?: readonly tf.Tensor[]): Promise<Record<string, Uint8Array | string>> {
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

export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const modelJson = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8'));
  const vocabulary = JSON.parse(await readFile(path.join(dir, 'vocabulary.json'), 'utf8')) as Vocabulary;
  const bin = await readFile(path.join(dir, 'weights.bin'));
  const values = tf.io.decodeWeights(
    bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    modelJson.weightsManifest[0].weights,
  );
  const model = createCaptionModel(modelJson.config as CaptionModelConfig, 0);
  for (const [name, v] of Object.entries(model.weights)) {
    if (!values[name]) throw new Error(`checkpoint ${dir} lacks weight ${name}`);
    v.assign(values[name]);
    values[name].dispose();
  }
  return { model, vocabulary, extra: modelJson.extra ?? {} };
}
