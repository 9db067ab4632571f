/**
 * The train stage on a real (small) demo pipeline: kill -9 at exact points (failpoints) — mid-epoch, inside
 * and after an epoch checkpoint's commit, inside the artifact's commit — then rerun with resume -> the same
 * bytes as an uninterrupted run, with one thread, two workers + ema, and self-critical epochs; same seed twice
 * -> identical checkpoint bytes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runIngest } from '../../ingest/src/index.ts';
import { runFeatures } from '../../features/src/index.ts';
import { runTokenize } from '../../tokenize/src/index.ts';
import { readParquetRows } from '@caption/core';
import { runUntilFailpoint } from '../../../test/helpers/kill.ts';
import { runTrain } from '../src/stage.ts';
import type { TrainParams } from '../src/params.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
let tmp: string;
const PARAMS: TrainParams = {
  decoder: 'attention-gru', epochs: 3, batchSize: 16, bucketBatches: 0, embedDim: 16, units: 32, heads: 2, layers: 1, dropout: 0.2, residualDropout: 0, encoderDropout: 0, encoderHeadLrScale: 1, attentionReg: 0.1,
  optimizer: 'adam', learningRate: 0.003, lrSchedule: 'step', lrDecay: 0.7, clipNorm: 5, labelSmoothing: 0, ema: 0, patience: 0, scstEpochs: 0, scstSamples: 5, scstLearningRate: 5e-5, workers: 1, resume: 'auto', backend: 'wasm',
};
const dirs = (out: string) => ({ features: path.join(tmp, 'features'), tokenize: path.join(tmp, 'tokenize'), out: path.join(tmp, out) });
const weights = (out: string) => readFileSync(path.join(tmp, out, 'checkpoint', 'weights.bin'));

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'train-stage-'));
  process.env.CAPTION_STORE = path.join(tmp, 'store'); // this test's own content store, not the checkout's
  const ingest = { dataset: 'demo', demo: { images: 40, seed: 3 }, format: 'auto', lemmas: false, imageDir: '', splitMap: {}, splitFractions: { train: 0.8, dev: 0.1, test: 0.1 }, strict: false, concurrency: 4 } as const;
  await runIngest({ pipeline: 't', seed: 1, params: ingest }, path.join(tmp, 'ingest'));
  await runFeatures({ pipeline: 't', seed: 1, params: { backbone: 'mobilenet_v2', engine: 'onnx', batchSize: 8, shardSize: 64, dtype: 'float16', concurrency: 4, reuse: false } as never }, path.join(tmp, 'ingest'), path.join(tmp, 'features'));
  await runTokenize({ pipeline: 't', seed: 1, params: { vocabSize: 100, minCount: 1, maxLength: 16, lowercase: true, stripPunctuation: true, dropNumeric: false, dropSingleChars: false } }, path.join(tmp, 'ingest'), path.join(tmp, 'tokenize'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('train: same seed twice -> identical checkpoint; a loss curve and a training log are written', async () => {
  const a = await runTrain({ pipeline: 't', seed: 9, params: PARAMS }, dirs('a'));
  await runTrain({ pipeline: 't', seed: 9, params: PARAMS }, dirs('b'));
  assert.ok(weights('a').equals(weights('b')));
  assert.equal(readFileSync(path.join(tmp, 'a/manifest.json'), 'utf8'), readFileSync(path.join(tmp, 'b/manifest.json'), 'utf8'));
  assert.equal(a.rows.epochs, 3);
  assert.match(readFileSync(path.join(tmp, 'a/loss-curve.svg'), 'utf8'), /<polyline/);
  assert.ok(!existsSync(path.join(tmp, 'a/.epochs')), 'epoch checkpoints are not part of the artifact');
  const c = await runTrain({ pipeline: 't', seed: 10, params: PARAMS }, dirs('c'));
  assert.ok(!weights('c').equals(weights('a')), 'another seed gives other weights');
  void c;
});

/** Run the stage in a child that SIGKILLs itself at `failpoint`, then rerun it here; returns this process's log. */
async function killAndResume(name: string, params: TrainParams, failpoint: string): Promise<string> {
  const script = path.join(tmp, `child-${name}.mts`);
  writeFileSync(script, `
    import { runTrain } from ${JSON.stringify(path.join(here, '../src/stage.ts'))};
    await runTrain({ pipeline: 't', seed: 9, params: ${JSON.stringify(params)} }, ${JSON.stringify(dirs(name))});
  `);
  await runUntilFailpoint(script, failpoint);
  assert.ok(!existsSync(path.join(tmp, name, 'manifest.json')), `${failpoint}: the killed run must not have committed`);
  const stderr = process.stderr.write.bind(process.stderr);
  let log = '';
  process.stderr.write = ((c: string | Uint8Array) => ((log += c.toString()), true)) as typeof process.stderr.write;
  try {
    await runTrain({ pipeline: 't', seed: 9, params }, dirs(name));
  } finally {
    process.stderr.write = stderr;
  }
  return log;
}

/** The resumed artifact is the uninterrupted one, byte for byte: weights, training log, manifest, every file. */
function assertSameArtifact(name: string, reference: string, why: string) {
  for (const f of ['checkpoint/weights.bin', 'training-log.parquet', 'manifest.json', 'loss-curve.svg', 'checkpoint/model.json']) {
    assert.ok(readFileSync(path.join(tmp, name, f)).equals(readFileSync(path.join(tmp, reference, f))), `${why}: ${f} differs from the uninterrupted run's`);
  }
}

// batches of 4 captions (one image each): 30 optimizer steps an epoch, enough for Adam's running beta powers to matter
const SMALL_BATCHES = { ...PARAMS, batchSize: 4 };

test('train: kill -9 at every kind of point (mid-epoch, inside an epoch checkpoint, after it, inside the final commit) -> resume ends byte-identical', async () => {
  await runTrain({ pipeline: 't', seed: 9, params: SMALL_BATCHES }, dirs('ref-1'));
  const points = [
    ['commit:epoch-1:done', /resuming after epoch 1/],       // epoch 1 checkpointed, epoch 2 not begun
    ['train:step-40', /resuming after epoch 1/],             // in the middle of epoch 2 (30 steps an epoch)
    ['commit:epoch-2:written', /resuming after epoch 1/],    // epoch 2's unit (with its best/ copy) written, not committed
    ['commit:epoch-2:done', /resuming after epoch 2/],       // committed, epoch 1's unit not yet removed
    // every epoch done, killed inside the artifact's own commit: the epoch checkpoints are already dropped, so the
    // rerun trains again from the start (a window of milliseconds) and still ends with the same bytes
    ['commit:kill-final:swapping', /epoch 1\/3 loss/],
  ] as const;
  for (const [i, [point, resumes]] of points.entries()) {
    const name = i === points.length - 1 ? 'kill-final' : `kill-${i}`;
    const log = await killAndResume(name, SMALL_BATCHES, point);
    assert.match(log, resumes, point);
    if (point !== 'commit:kill-final:swapping') assert.doesNotMatch(log, /epoch 1\/3 loss/, `${point}: epoch 1 must not be trained again`);
    assertSameArtifact(name, 'ref-1', point);
  }
});

test('train: workers 2 + length buckets + label smoothing + ema -> kill -9 after or inside an epoch checkpoint, resume ends byte-identical', async () => {
  // ema: the weight average must come back from the epoch checkpoint too
  const params = { ...SMALL_BATCHES, workers: 2, bucketBatches: 2, labelSmoothing: 0.1, ema: 0.99 };
  await runTrain({ pipeline: 't', seed: 9, params }, dirs('w2'));
  for (const [i, point] of ['commit:epoch-1:done', 'commit:epoch-2:written'].entries()) {
    await killAndResume(`w2-killed-${i}`, params, point);
    assertSameArtifact(`w2-killed-${i}`, 'w2', point);
  }
});

test('train: self-critical epochs on two workers -> a kill -9 at the switch, between them or inside one\'s checkpoint, and resume, end byte-identical', async () => {
  const params = { ...PARAMS, decoder: 'transformer', epochs: 1, scstEpochs: 2, scstSamples: 3, scstLearningRate: 0.001, workers: 2 } as const;
  await runTrain({ pipeline: 't', seed: 9, params }, dirs('scst'));
  const log = await readParquetRows<{ epoch: number; reward: number; dev_cider: number }>(path.join(tmp, 'scst', 'training-log.parquet'));
  assert.deepEqual(log.map((r) => r.epoch), [1, 2, 3]);
  assert.ok(Number.isNaN(log[0].reward) && Number.isNaN(log[0].dev_cider), 'the cross-entropy epoch has no reward');
  assert.ok(log.slice(1).every((r) => Number.isFinite(r.reward) && Number.isFinite(r.dev_cider)));
  // the curve's train loss covers the cross-entropy epoch only; the dev loss every epoch
  const points = [...readFileSync(path.join(tmp, 'scst', 'loss-curve.svg'), 'utf8').matchAll(/stroke="(#[0-9a-f]+)" stroke-width="2" points="([^"]*)"/g)]
    .map((m) => [m[1], m[2].split(' ').length]);
  assert.deepEqual(points, [['#1f77b4', 1], ['#d62728', 3]]);

  // epoch-1: the cross-entropy epoch is done, the self-critical ones not begun; epoch-2: one of them is done
  for (const [i, point] of ['commit:epoch-1:done', 'commit:epoch-2:done', 'commit:epoch-3:written'].entries()) {
    await killAndResume(`scst-killed-${i}`, params, point);
    assertSameArtifact(`scst-killed-${i}`, 'scst', point);
  }
});
