/**
 * Per-epoch checkpoints inside the train artifact's `.partial` dir, so `train.resume: auto` continues an
 * interrupted run exactly. Each epoch is one unit, committed whole or not at all (core's `commitUnit`):
 *   .epochs/epoch-<N>/  model.json weights.bin vocabulary.json    the weights after epoch N
 *                       optimizer.bin optimizer.json              optimizer slots, and Adam's running beta powers
 *                       [average.bin average.json]                the weight average, with train.ema
 *                       state.json                                loop state (epoch, step, history, dropout counter)
 *                       best/model.json best/weights.bin ...      the best epoch so far (averaged, with ema)
 * Resuming takes the newest unit; older ones are removed once a newer one is committed.
 */
import type { ArtifactWriter, CheckpointFiles, Unit } from '@caption/core';
import { catalog } from '@caption/core';
import { tf } from '@caption/core/tf';
import type { Resumed, TrainState } from './state.ts';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '@caption/model';

const DIR = '.epochs';
const EPOCH = /^epoch-(\d+)$/;
const checkpoint = catalog.train.checkpoint;

/** Adam's beta1^t and beta2^t as it accumulated them (float32 products); its setWeights recomputes them with pow(). */
type AdamPowers = { accBeta1: number; accBeta2: number };
type AdamInternals = { accBeta1?: tf.Variable; accBeta2?: tf.Variable };

export class EpochCheckpoints {
  private best?: CheckpointFiles;

  constructor(private readonly writer: ArtifactWriter, private readonly ckpt: Checkpoint) {}

  /** Commit epoch `state.epoch` as one unit, then drop the older units. */
  async save(optimizer: tf.Optimizer, state: TrainState, improved: boolean, average?: readonly tf.Tensor[]): Promise<void> {
    const files = await encodeCheckpoint(this.ckpt);
    if (improved) this.best = average ? await encodeCheckpoint(this.ckpt, average) : files;
    const slots = await optimizer.getWeights();
    await this.writer.commitUnit(`${DIR}/epoch-${state.epoch}`, {
      ...files,
      ...(await tensorFiles('optimizer', slots.map((s) => s.tensor), adamPowers(optimizer))),
      ...(average ? await tensorFiles('average', average) : {}),
      'state.json': JSON.stringify(state),
      ...(this.best ? prefixed('best/', this.best) : {}),
    });
    for (const unit of await this.epochUnits()) if (unit !== state.epoch) await this.writer.remove(`${DIR}/epoch-${unit}`);
  }

  /** Restore the newest committed epoch into the model and optimizer; undefined when there is none. */
  async loadLatest(optimizer: tf.Optimizer): Promise<Resumed | undefined> {
    const epochs = await this.epochUnits();
    if (!epochs.length) return undefined;
    const unit = (await this.writer.readUnit(`${DIR}/epoch-${epochs.at(-1)}`))!;
    assignWeights(this.ckpt, decodeCheckpoint(await checkpoint.loadUnit(unit), unit.name));
    const { tensors: slots, extra } = await readTensors(unit, 'optimizer');
    await optimizer.setWeights(slots.map((tensor, i) => ({ name: `slot-${i}`, tensor })));
    restoreAdamPowers(optimizer, extra as AdamPowers | undefined);
    const average = unit.files.includes('average.bin') ? (await readTensors(unit, 'average')).tensors : undefined;
    if (unit.files.includes('best/model.json')) this.best = await checkpoint.loadUnit(unit, 'best/');
    return { state: JSON.parse(await unit.readText('state.json')) as TrainState, average };
  }

  /** The best epoch's weights in model.weights order (for restore-best after a resumed run). */
  async loadBest(): Promise<tf.Tensor[] | undefined> {
    if (!this.best) return undefined;
    const best = decodeCheckpoint(this.best, `${DIR}/best`);
    const out = Object.keys(this.ckpt.model.weights).map((k) => best.model.weights[k].clone());
    Object.values(best.model.weights).forEach((v) => v.dispose());
    return out;
  }

  remove(): Promise<void> {
    return this.writer.remove(DIR);
  }

  private async epochUnits(): Promise<number[]> {
    return (await this.writer.listUnits(DIR)).map((d) => EPOCH.exec(d)).filter((m) => !!m).map((m) => Number(m![1])).sort((a, b) => a - b);
  }
}

function adamPowers(optimizer: tf.Optimizer): AdamPowers | undefined {
  const { accBeta1, accBeta2 } = optimizer as unknown as AdamInternals;
  return accBeta1 && accBeta2 ? { accBeta1: accBeta1.dataSync()[0], accBeta2: accBeta2.dataSync()[0] } : undefined;
}

function restoreAdamPowers(optimizer: tf.Optimizer, powers: AdamPowers | undefined): void {
  const { accBeta1, accBeta2 } = optimizer as unknown as AdamInternals;
  if (!powers || !accBeta1 || !accBeta2) return;
  tf.tidy(() => {
    accBeta1.assign(tf.scalar(powers.accBeta1));
    accBeta2.assign(tf.scalar(powers.accBeta2));
  });
}

const prefixed = (prefix: string, files: CheckpointFiles) => Object.fromEntries(Object.entries(files).map(([k, v]) => [`${prefix}${k}`, v]));

/** Tensors in order as `<base>.bin` + `<base>.json` (TF.js weight specs named `slot-<i>`, plus `extra`). */
async function tensorFiles(base: string, tensors: readonly tf.Tensor[], extra?: object): Promise<Record<string, Uint8Array | string>> {
  const { data, specs } = await tf.io.encodeWeights(tensors.map((tensor, i) => ({ name: `slot-${i}`, tensor })));
  return { [`${base}.bin`]: new Uint8Array(data as ArrayBuffer), [`${base}.json`]: JSON.stringify({ specs, extra }) };
}

async function readTensors(unit: Unit, base: string): Promise<{ tensors: tf.Tensor[]; extra?: object }> {
  const bin = await unit.read(`${base}.bin`);
  const { specs, extra } = JSON.parse(await unit.readText(`${base}.json`)) as { specs: { name: string }[]; extra?: object };
  const named = tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer, specs as never);
  return { tensors: specs.map((s) => named[s.name]), extra };
}

function assignWeights(ckpt: Checkpoint, saved: Checkpoint) {
  for (const [k, v] of Object.entries(ckpt.model.weights)) v.assign(saved.model.weights[k]);
  Object.values(saved.model.weights).forEach((v) => v.dispose());
}
