/**
 * The train stage on a real (small) demo pipeline: kill -9 during epoch 2, rerun with resume -> training
 * continues from the epoch-1 checkpoint and ends with the same weights as an uninterrupted run; same seed
 * twice -> identical checkpoint bytes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runIngest } from '../../ingest/src/index.ts';
import { runFeatures } from '../../features/src/index.ts';
import { runTokenize } from '@caption/tokenize';
import { ParquetDataset, tableRows } from '@caption/core';
import { runUntilFileThenKill } from '../../../test/helpers/kill.ts';
import { runTrain } from '../src/stage.ts';
import type { TrainParams } from '../src/params.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
let tmp: string;
const PARAMS: TrainParams = {
  decoder: 'attention-gru', epochs: 3, batchSize: 16, bucketBatches: 0, embedDim: 16, units: 32, heads: 2, layers: 1, dropout: 0.2, residualDropout: 0, encoderDropout: 0, attentionReg: 0.1,
  optimizer: 'adam', learningRate: 0.003, lrSchedule: 'step', lrDecay: 0.7, clipNorm: 5, labelSmoothing: 0, ema: 0, patience: 0, scstEpochs: 0, scstSamples: 5, scstLearningRate: 5e-5, workers: 1, resume: 'auto', backend: 'wasm',
};
const dirs = (out: string) => ({ features: path.join(tmp, 'features'), tokenize: path.join(tmp, 'tokenize'), out: path.join(tmp, out) });
const weights = (out: string) => readFileSync(path.join(tmp, out, 'checkpoint', 'weights.bin'));

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'train-stage-'));
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

test('train: kill -9 during epoch 2, rerun -> resumes from the epoch-1 checkpoint, same final weights', async () => {
  const out = dirs('killed').out;
  const script = path.join(tmp, 'child.mts');
  writeFileSync(script, `
    import { runTrain } from ${JSON.stringify(path.join(here, '../src/stage.ts'))};
    await runTrain({ pipeline: 't', seed: 9, params: ${JSON.stringify(PARAMS)} }, ${JSON.stringify(dirs('killed'))});
  `);
  const epoch1 = path.join(`${out}.partial`, '.epochs', 'epoch-1', 'state.json');
  await runUntilFileThenKill(script, epoch1);
  assert.ok(!existsSync(path.join(out, 'manifest.json')));

  const stderr = process.stderr.write.bind(process.stderr);
  let log = '';
  process.stderr.write = ((c: string | Uint8Array) => ((log += c.toString()), true)) as typeof process.stderr.write;
  try {
    await runTrain({ pipeline: 't', seed: 9, params: PARAMS }, dirs('killed'));
  } finally {
    process.stderr.write = stderr;
  }
  assert.match(log, /resuming after epoch [12]/);
  assert.doesNotMatch(log, /epoch 1\/3 loss/, 'epoch 1 must not be trained again');
  assert.ok(weights('killed').equals(weights('a')), 'resumed run must end with the uninterrupted run\'s weights');
  assert.equal(readFileSync(path.join(out, 'manifest.json'), 'utf8'), readFileSync(path.join(tmp, 'a/manifest.json'), 'utf8'));
});

test('train: workers 2 + length buckets + label smoothing + ema -> a kill -9 and resume still end with the uninterrupted run\'s weights', async () => {
  // ema: the weight average must come back from the epoch checkpoint too
  const params = { ...PARAMS, workers: 2, bucketBatches: 2, labelSmoothing: 0.1, ema: 0.99 };
  await runTrain({ pipeline: 't', seed: 9, params }, dirs('w2'));
  const script = path.join(tmp, 'child-w2.mts');
  writeFileSync(script, `
    import { runTrain } from ${JSON.stringify(path.join(here, '../src/stage.ts'))};
    await runTrain({ pipeline: 't', seed: 9, params: ${JSON.stringify(params)} }, ${JSON.stringify(dirs('w2-killed'))});
  `);
  await runUntilFileThenKill(script, path.join(`${dirs('w2-killed').out}.partial`, '.epochs', 'epoch-1', 'state.json'));
  assert.ok(!existsSync(path.join(dirs('w2-killed').out, 'manifest.json')));
  await runTrain({ pipeline: 't', seed: 9, params }, dirs('w2-killed'));
  assert.ok(weights('w2-killed').equals(weights('w2')));
});

test('train: self-critical epochs on two workers -> a kill -9 at the switch or between them, and resume, end with the uninterrupted run\'s weights', async () => {
  const params = { ...PARAMS, decoder: 'transformer', epochs: 1, scstEpochs: 2, scstSamples: 3, scstLearningRate: 0.001, workers: 2 } as const;
  await runTrain({ pipeline: 't', seed: 9, params }, dirs('scst'));
  const log = tableRows<{ epoch: number; reward: number; dev_cider: number }>(
    await new ParquetDataset(path.join(tmp, 'scst', 'training-log.parquet')).load(),
  );
  assert.deepEqual(log.map((r) => r.epoch), [1, 2, 3]);
  assert.ok(Number.isNaN(log[0].reward) && Number.isNaN(log[0].dev_cider), 'the cross-entropy epoch has no reward');
  assert.ok(log.slice(1).every((r) => Number.isFinite(r.reward) && Number.isFinite(r.dev_cider)));
  // the curve's train loss covers the cross-entropy epoch only; the dev loss every epoch
  const points = [...readFileSync(path.join(tmp, 'scst', 'loss-curve.svg'), 'utf8').matchAll(/stroke="(#[0-9a-f]+)" stroke-width="2" points="([^"]*)"/g)]
    .map((m) => [m[1], m[2].split(' ').length]);
  assert.deepEqual(points, [['#1f77b4', 1], ['#d62728', 3]]);

  // epoch-1: the cross-entropy epoch is done, the self-critical ones not begun; epoch-2: one of them is done
  for (const [name, epoch] of [['scst-killed-1', 1], ['scst-killed-2', 2]] as const) {
    const script = path.join(tmp, `child-${name}.mts`);
    writeFileSync(script, `
      import { runTrain } from ${JSON.stringify(path.join(here, '../src/stage.ts'))};
      await runTrain({ pipeline: 't', seed: 9, params: ${JSON.stringify(params)} }, ${JSON.stringify(dirs(name))});
    `);
    await runUntilFileThenKill(script, path.join(`${dirs(name).out}.partial`, '.epochs', `epoch-${epoch}`, 'state.json'));
    assert.ok(!existsSync(path.join(dirs(name).out, 'manifest.json')));
    await runTrain({ pipeline: 't', seed: 9, params }, dirs(name));
    assert.ok(weights(name).equals(weights('scst')), `killed after epoch ${epoch}: resumed run must end with the uninterrupted run's weights`);
    assert.ok(readFileSync(path.join(tmp, name, 'training-log.parquet')).equals(readFileSync(path.join(tmp, 'scst', 'training-log.parquet'))));
  }
});
