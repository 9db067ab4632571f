/** The previous report in the output directory: found, identified by its manifest hash, old formats read. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ArtifactWriter, canonicalJson, sha256 } from '@caption/core';
import { readPreviousRun, reportMetrics } from '../src/previous-run.ts';

async function writeReport(dir: string, report: object, kind = 'report') {
  const writer = await ArtifactWriter.open(dir);
  await writer.write('report.json', canonicalJson(report));
  await writer.commit({ kind, schemaVersion: 1, stage: 'evaluate', createdBy: 'test', params: {}, upstream: {}, rows: {}, extra: {} });
}

test('readPreviousRun: none in an empty or missing directory', async () => {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'previous-run-'));
  try {
    assert.equal(await readPreviousRun(tmp), undefined);
    assert.equal(await readPreviousRun(path.join(tmp, 'nope')), undefined);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

test('readPreviousRun: a BLEU-only report from before CIDEr-D/ROUGE-L, and a current one', async () => {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'previous-run-'));
  const dir = path.join(tmp, 'evaluate');
  try {
    await writeReport(dir, { pipeline: 'demo', decoder: 'merge-lstm', split: 'test', images: 60, bleu: [0.8, 0.7, 0.6, 0.5], baseline: { bleu: [0.1, 0.1, 0.1, 0.1] } });
    const old = await readPreviousRun(dir);
    assert.deepEqual(old, {
      manifestHash: sha256(await readFile(path.join(dir, 'manifest.json'), 'utf8')),
      pipeline: 'demo', decoder: 'merge-lstm', decoding: 'greedy decoding', split: 'test', images: 60,
      metrics: { bleu1: 0.8, bleu2: 0.7, bleu3: 0.6, bleu4: 0.5 },
    });

    await writeReport(dir, { pipeline: 'f8k', decoder: 'transformer', decoding: 'beam search (k=3, length penalty 0)', split: 'test', images: 1000, bleu: [0.6, 0.4, 0.3, 0.2], ciderD: 0.55, rougeL: 0.45 });
    const current = (await readPreviousRun(dir))!;
    assert.notEqual(current.manifestHash, old!.manifestHash);
    assert.equal(current.decoding, 'beam search (k=3, length penalty 0)');
    assert.deepEqual(current.metrics, { bleu1: 0.6, bleu2: 0.4, bleu3: 0.3, bleu4: 0.2, ciderD: 0.55, rougeL: 0.45 });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

test('readPreviousRun: refuses a directory holding another kind of artifact', async () => {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'previous-run-'));
  try {
    await writeReport(tmp, { bleu: [1, 1, 1, 1] }, 'checkpoint');
    await assert.rejects(readPreviousRun(tmp), /expected 'report'/);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

test('reportMetrics: non-numeric or missing values are left out', () => {
  assert.deepEqual(reportMetrics({ bleu: [0.5, 'x'], ciderD: null, rougeL: 0.3 }), { bleu1: 0.5, rougeL: 0.3 });
  assert.deepEqual(reportMetrics({}), {});
});
