import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusBleu } from '../src/bleu.ts';
import { corpusCider } from '../src/cider.ts';
import { corpusRougeL } from '../src/rouge.ts';
import { checkMetricVectors, VECTOR_METRICS } from '../src/vectors.ts';
import { TOLERANCE, loadVectors, vectorPath, vectorsSkip, type VectorFile } from './reference-vectors.ts';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');


/** A small self-consistent vector file scored by this package (lets the corruption checks run without shared data). */
function syntheticVectors(): VectorFile {
  const references = {
    i1: ['a dog runs on the grass', 'a brown dog is running outside'],
    i2: ['two children play in the water', 'kids splash in a pool'],
    i3: ['a man rides a bike down a hill', 'a cyclist on a steep road'],
  };
  const hypotheses = { i1: 'a dog runs on grass', i2: 'two kids play in the pool', i3: 'a man on a bike' };
  const refs = new Map(Object.entries(references));
  const hyps = new Map(Object.entries(hypotheses));
  const bleu = corpusBleu(hyps, refs);
  const cider = corpusCider(hyps, refs);
  const rouge = corpusRougeL(hyps, refs);
  const per_image: Record<string, Record<string, number>> = {};
  for (const id of hyps.keys()) per_image[id] = { Bleu_4: bleu.perImage.get(id)![3], CIDEr: cider.perImage.get(id)!, ROUGE_L: rouge.perImage.get(id)! };
  const corpus = { Bleu_1: bleu.bleu[0], Bleu_2: bleu.bleu[1], Bleu_3: bleu.bleu[2], Bleu_4: bleu.bleu[3], CIDEr: cider.score, ROUGE_L: rouge.score };
  return { references, systems: { sys: { corpus, hypotheses, per_image } } };
}

function caption(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'packages/cli/src/main.ts', ...args], { cwd: ROOT, encoding: 'utf8' });
}

function withTempFile<T>(json: unknown, fn: (file: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'caption-vectors-'));
  try {
    const file = join(dir, 'vectors.json');
    writeFileSync(file, JSON.stringify(json));
    return fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('metrics-vectors: self-consistent file has zero deviation for every metric', () => {
  const result = checkMetricVectors(syntheticVectors());
  assert.deepEqual(result.map((r) => r.metric), [...VECTOR_METRICS]);
  for (const r of result) {
    assert.equal(r.maxDeviation, 0, r.metric);
    assert.equal(r.system, 'sys');
    assert.ok(r.checked >= 1);
  }
});

test('metrics-vectors: a corrupted per-image or corpus score is detected for that metric only', () => {
  const perImage = syntheticVectors();
  perImage.systems.sys.per_image!.i2.CIDEr += 1e-4;
  const cider = checkMetricVectors(perImage);
  assert.ok(cider.find((r) => r.metric === 'CIDEr')!.maxDeviation > TOLERANCE);
  for (const r of cider) if (r.metric !== 'CIDEr') assert.equal(r.maxDeviation, 0, r.metric);

  const corpus = syntheticVectors();
  corpus.systems.sys.corpus.Bleu_2 -= 2e-6;
  const bleu2 = checkMetricVectors(corpus).find((r) => r.metric === 'Bleu_2')!;
  assert.ok(bleu2.maxDeviation > TOLERANCE && bleu2.maxDeviation < 3e-6, `Bleu_2 deviation ${bleu2.maxDeviation}`);
});

test('metrics-vectors: malformed files are rejected', () => {
  assert.throws(() => checkMetricVectors({}), /"references" and "systems"/);
  assert.throws(() => checkMetricVectors({ references: {}, systems: {} }), /no systems/);
  const missingRefs = syntheticVectors();
  missingRefs.systems.sys.hypotheses.extra = 'a b';
  assert.throws(() => checkMetricVectors(missingRefs), /"extra" has no references/);
});

test('caption score: exit 0 on a consistent file, 1 (quality) on a corrupted one, 2 without --vectors', () => {
  const ok = withTempFile(syntheticVectors(), (file) => caption(['score', '--vectors', file]));
  assert.equal(ok.status, 0, ok.stderr);
  for (const metric of VECTOR_METRICS) assert.match(ok.stdout, new RegExp(`^${metric} max deviation 0`, 'm'));

  const corrupted = syntheticVectors();
  corrupted.systems.sys.per_image!.i1.ROUGE_L += 0.01;
  const bad = withTempFile(corrupted, (file) => caption(['score', '--vectors', file]));
  assert.equal(bad.status, 1, bad.stderr);
  assert.match(bad.stdout, /^ROUGE_L max deviation 1\.000e-2 \(system sys/m);
  assert.match(bad.stderr, /ROUGE_L \(sys\)/);

  const usage = caption(['score']);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /--vectors/);
});

const skipMessage = vectorsSkip('every metric');

test('metrics-vectors: every corpus and per-image score of every system within 1e-6', { skip: skipMessage ?? false }, (t) => {
  const vectors = loadVectors();
  const result = checkMetricVectors(vectors);
  for (const r of result) {
    t.diagnostic(`${r.metric}: max deviation ${r.maxDeviation.toExponential(3)} (system ${r.system}, ${r.checked} values)`);
    assert.ok(r.checked > 0, `${r.metric}: nothing checked`);
    assert.ok(r.maxDeviation <= TOLERANCE, `${r.metric}: deviation ${r.maxDeviation} in system ${r.system}`);
  }
  // corrupt one per-image CIDEr of the real file: detected
  const corrupted = structuredClone(vectors);
  const system = Object.keys(corrupted.systems)[0];
  const firstImage = Object.keys(corrupted.systems[system].per_image!)[0];
  corrupted.systems[system].per_image![firstImage].CIDEr += 1e-5;
  const cider = checkMetricVectors(corrupted).find((r) => r.metric === 'CIDEr')!;
  assert.ok(cider.maxDeviation > TOLERANCE && cider.system === system, `CIDEr deviation ${cider.maxDeviation} (${cider.system})`);
});

test('caption score: exit 0 on the real test vectors, non-zero on a corrupted copy', { skip: skipMessage ?? false }, () => {
  const ok = caption(['score', '--vectors', vectorPath!]);
  assert.equal(ok.status, 0, `${ok.stdout}\n${ok.stderr}`);
  for (const metric of VECTOR_METRICS) assert.match(ok.stdout, new RegExp(`^${metric} max deviation `, 'm'));

  const vectors = loadVectors();
  const system = Object.keys(vectors.systems)[0];
  vectors.systems[system].corpus.Bleu_3 += 1e-5;
  const bad = withTempFile(vectors, (file) => caption(['score', '--vectors', file]));
  assert.notEqual(bad.status, 0, bad.stdout);
  assert.match(bad.stderr, /Bleu_3/);
});
