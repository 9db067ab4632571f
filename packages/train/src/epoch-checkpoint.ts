/**
 * Per-epoch checkpoints inside the train artifact's `.partial` dir, so `train.resume: auto` continues an
 * interrupted run exactly: weights, optimizer slots, loop state (epoch, step, history, dropout counter; the
 * data order is derived from the seed and epoch), plus config and vocabulary.
 *   .epochs/epoch-<N>/  model.json weights.bin vocabulary.json optimizer.bin optimizer.json state.json
 *                       [average.bin average.json: the weight average, with train.ema]
 *   .epochs/best/       model.json weights.bin vocabulary.json   (the best dev epoch so far; averaged, with ema)
 * `state.json` is written last: an epoch dir without it was cut off and is ignored.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ArtifactWriter } from '@caption/core';
import { tf } from '@caption/core/tf';
import { encodeCheckpoint, loadCheckpoint, type Checkpoint } from './checkpoint.ts';
import type { Resumed, TrainState } from './loop.ts';

const DIR = '.epochs';

export async function saveEpoch(
  writer: ArtifactWriter, ckpt: Checkpoint, optimizer: tf.Optimizer, state: TrainState, improved: boolean, average?: readonly tf.Tensor[],
) {
  const dir = `${DIR}/epoch-${state.epoch}`;
  const files = await encodeCheckpoint(ckpt);
  for (const [name, bytes] of Object.entries(files)) await writer.write(`${dir}/${name}`, bytes);
  const slots = await optimizer.getWeights();
  await writeTensors(writer, `${dir}/optimizer`, slots.map((s) => s.tensor));
  if (average) await writeTensors(writer, `${dir}/average`, average);
  await writer.write(`${dir}/state.json`, JSON.stringify(state));
  if (improved) {
    const best = average ? await encodeCheckpoint(ckpt, average) : files;
    for (const [name, bytes] of Object.entries(best)) await writer.write(`${DIR}/best/${name}`, bytes);
  }
  if (state.epoch > 1) await writer.remove(`${DIR}/epoch-${state.epoch - 1}`);
}

/** Restore the latest complete epoch into `model` and `optimizer`; undefined when there is none. */
export async function loadLatestEpoch(writer: ArtifactWriter, ckpt: Checkpoint, optimizer: tf.Optimizer): Promise<Resumed | undefined> {
  const root = writer.path(DIR);
  if (!existsSync(root)) return undefined;
  const epochs = (await readdir(root))
    .map((d) => /^epoch-(\d+)$/.exec(d))
    .filter((m): m is RegExpExecArray => !!m && existsSync(path.join(root, m[0], 'state.json')))
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  if (!epochs.length) return undefined;
  const dir = path.join(root, `epoch-${epochs[0]}`);
  await assignWeights(ckpt, dir);
  const slots = await readTensors(path.join(dir, 'optimizer'));
  await optimizer.setWeights(slots.map((tensor, i) => ({ name: `slot-${i}`, tensor })));
  const average = existsSync(path.join(dir, 'average.bin')) ? await readTensors(path.join(dir, 'average')) : undefined;
  return { state: JSON.parse(await readFile(path.join(dir, 'state.json'), 'utf8')) as TrainState, average };
}

/** Tensors in order as `<base>.bin` + `<base>.json` (TF.js weight specs named `slot-<i>`). */
async function writeTensors(writer: ArtifactWriter, base: string, tensors: readonly tf.Tensor[]) {
  const { data, specs } = await tf.io.encodeWeights(tensors.map((tensor, i) => ({ name: `slot-${i}`, tensor })));
  await writer.write(`${base}.bin`, new Uint8Array(data as ArrayBuffer));
  await writer.write(`${base}.json`, JSON.stringify(specs));
}

async function readTensors(base: string): Promise<tf.Tensor[]> {
  const bin = await readFile(`${base}.bin`);
  const specs = JSON.parse(await readFile(`${base}.json`, 'utf8')) as { name: string }[];
  const named = tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength), specs as never);
  return specs.map((s) => named[s.name]);
}

/** The best epoch's weights in model.weights order (for restore-best after a resumed run). */
export async function loadBestWeights(writer: ArtifactWriter, ckpt: Checkpoint): Promise<tf.Tensor[] | undefined> {
  const dir = writer.path(`${DIR}/best`);
  if (!existsSync(path.join(dir, 'weights.bin'))) return undefined;
  const best = await loadCheckpoint(dir);
  const out = Object.keys(ckpt.model.weights).map((k) => best.model.weights[k].clone());
  Object.values(best.model.weights).forEach((v) => v.dispose());
  return out;
}

export const removeEpochs = (writer: ArtifactWriter) => writer.remove(DIR);

async function assignWeights(ckpt: Checkpoint, dir: string) {
  const saved = await loadCheckpoint(dir);
  for (const [k, v] of Object.entries(ckpt.model.weights)) v.assign(saved.model.weights[k]);
  Object.values(saved.model.weights).forEach((v) => v.dispose());
}
