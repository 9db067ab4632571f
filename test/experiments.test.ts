/**
 * Experiments: `caption status` (why a stage would re-run, from a Turbo dry run + the recorded runs),
 * the runs history (`caption runs`, `caption diff`) and matrix pipelines, in one throw-away workspace.
 * The config is tiny (24 images, 1 epoch, 8 units) so each pipeline run costs seconds.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { TINY } from './helpers/pipelines.ts';
import { cacheStatus, createWorkspace, type TurboSummary, type Workspace } from './helpers/workspace.ts';
import { expandMatrix } from '../packages/cli/src/matrix.ts';

const STAGES = ['ingest', 'features', 'tokenize', 'train', 'evaluate'];
const all = (status: string) => Object.fromEntries(STAGES.map((s) => [s, status]));

// Same pipeline name: the name is part of every params file, so only a same-named pipeline shares the cache.
const TINY_EPOCHS = TINY.replace('epochs: 1', 'epochs: 2');
const MATRIX = `${TINY}matrix:\n  train.decoder: [transformer, merge-lstm]\n`;

interface StageStatus { stage: string; state: string; note?: string; params: { path: string; before: unknown; after: unknown }[]; files: { file: string; change: string }[]; upstream: string[]; global: string[] }
interface RunRecord { id: string; ok: boolean; variant?: Record<string, unknown>; matrix?: string; summary: string; metrics: Record<string, number>; stages: Record<string, { cache: string; manifest?: string }>; params: Record<string, { params: Record<string, unknown> }> }

describe('experiments: status, runs history, diff, matrix', () => {
  let ws: Workspace;
  const status = (file: string) => {
    const r = ws.caption(['status', file, '--json']);
    return Object.fromEntries((JSON.parse(r.stdout) as { stages: StageStatus[] }).stages.map((s) => [s.stage, s]));
  };
  const runs = () => JSON.parse(ws.caption(['runs', '--json']).stdout) as RunRecord[];
  const untouched = () => [
    ...STAGES.map((s) => (existsSync(path.join(ws.dir, `.caption/params/${s}.json`)) ? ws.readFile(`.caption/params/${s}.json`) : '')),
    ...STAGES.map((s) => (existsSync(path.join(ws.dir, `artifacts/${s}/manifest.json`)) ? ws.readFile(`artifacts/${s}/manifest.json`) : '')),
  ];

  before(() => {
    ws = createWorkspace('caption-exp-');
    ws.writeFile('pipelines/tiny.yaml', TINY);
    ws.writeFile('pipelines/tiny-epochs.yaml', TINY_EPOCHS);
    ws.writeFile('pipelines/tiny-matrix.yaml', MATRIX);
  });
  after(() => ws?.remove());

  test('status before any run: every stage missing, and nothing is written', () => {
    const s = status('pipelines/tiny.yaml');
    assert.deepEqual(Object.fromEntries(STAGES.map((k) => [k, s[k].state])), all('missing'));
    const paramsDir = path.join(ws.dir, '.caption/params');
    assert.equal(existsSync(paramsDir) ? readdirSync(paramsDir).length : 0, 0);
  });

  test('a run is recorded; status after it says every stage is cached and up to date', () => {
    ws.caption(['run', 'pipelines/tiny.yaml', '--quiet']);
    const [run] = runs();
    assert.equal(run.id, '0001-tiny');
    assert.ok(run.ok);
    assert.deepEqual(Object.fromEntries(STAGES.map((k) => [k, run.stages[k].cache])), all('MISS'));
    assert.deepEqual(cacheStatus(ws.lastTurboSummary()), all('MISS'));
    const report = JSON.parse(ws.readFile('artifacts/evaluate/report.json')) as { bleu: number[] };
    assert.equal(run.metrics.bleu4, report.bleu[3]);
    assert.equal(run.params.train.params.epochs, 1);

    const s = status('pipelines/tiny.yaml');
    for (const k of STAGES) assert.deepEqual([k, s[k].state, s[k].note], [k, 'cached', 'up to date']);
    assert.match(ws.caption(['status', 'pipelines/tiny.yaml']).stdout, /tiny \(pipelines\/tiny\.yaml\): 5 cached/);
  });

  test('status after editing a param names it, and only train + evaluate are stale; nothing is left changed', () => {
    const before = untouched();
    const s = status('pipelines/tiny-epochs.yaml');
    assert.deepEqual(Object.fromEntries(STAGES.map((k) => [k, s[k].state])), { ...all('cached'), train: 'stale', evaluate: 'stale' });
    assert.deepEqual(s.train.params, [{ path: 'train.epochs', before: 1, after: 2 }]);
    assert.deepEqual(s.evaluate.params, []);
    assert.deepEqual(s.evaluate.upstream, ['train']);
    assert.deepEqual(s.train.files, []);
    const text = ws.caption(['status', 'pipelines/tiny-epochs.yaml']).stdout;
    assert.match(text, /train\s+stale\s+train\.epochs: 1 -> 2/);
    assert.match(text, /evaluate\s+stale\s+upstream train re-runs/);
    assert.doesNotMatch(text, /features\s+stale|ingest\s+stale|tokenize\s+stale/);
    assert.deepEqual(untouched(), before, 'status changed a params file or an artifact');
  });

  // A stage's code is hashed only by the stages that run it (turbo.json inputs), not globally: editing the
  // decoder training loop must leave ingest, features and tokenize cached.
  for (const [file, stale] of [['packages/evaluate/src/report.ts', ['evaluate']], ['packages/train/src/loop.ts', ['train', 'evaluate']]] as const) {
    test(`status after editing ${file} names the file and only ${stale.join(' + ')}`, () => {
      const original = ws.readFile(file);
      try {
        ws.writeFile(file, `${original}// an edit\n`);
        const s = status('pipelines/tiny.yaml');
        assert.deepEqual(Object.fromEntries(STAGES.map((k) => [k, s[k].state])), { ...all('cached'), ...Object.fromEntries(stale.map((k) => [k, 'stale'])) });
        assert.deepEqual(s[stale[0]].files, [{ file, change: 'changed' }]);
        assert.deepEqual(s[stale[0]].params, []);
        assert.deepEqual(s[stale[0]].global, []);
      } finally {
        ws.writeFile(file, original);
      }
    });
  }

  test('runs lists the runs; diff shows the changed param and the metric deltas', () => {
    ws.caption(['run', 'pipelines/tiny-epochs.yaml', '--quiet']);
    assert.deepEqual(cacheStatus(ws.lastTurboSummary()), { ...all('HIT'), train: 'MISS', evaluate: 'MISS' });
    const [a, b] = runs();
    assert.deepEqual([a.id, b.id], ['0001-tiny', '0002-tiny']);

    const table = ws.caption(['runs']).stdout;
    assert.match(table, /0001-tiny\s+tiny\s+\S+ \S+\s+backbone=mobilenet_v2 decoder=attention-gru epochs=1 /);
    assert.match(table, /0002-tiny\s+tiny\s+\S+ \S+\s+backbone=mobilenet_v2 decoder=attention-gru epochs=2 /);
    assert.match(table, new RegExp(`0002-tiny .* ${b.metrics.bleu4.toFixed(4)} .* 3/5`));

    const d = JSON.parse(ws.caption(['diff', '0001-tiny', 'latest', '--json']).stdout) as {
      params: { path: string; a: unknown; b: unknown }[]; metrics: { metric: string; a: number; b: number; delta: number }[];
    };
    assert.deepEqual(d.params, [{ path: 'train.epochs', a: 1, b: 2 }]);
    const bleu1 = d.metrics.find((m) => m.metric === 'BLEU-1')!;
    assert.deepEqual([bleu1.a, bleu1.b, bleu1.delta], [a.metrics.bleu1, b.metrics.bleu1, b.metrics.bleu1 - a.metrics.bleu1]);
    assert.equal(d.metrics.length, Object.keys(b.metrics).length);

    const text = ws.caption(['diff', 'latest~1', 'latest']).stdout;
    assert.match(text, /train\.epochs\s+1\s+2/);
    const sign = b.metrics.bleu1 - a.metrics.bleu1 >= 0 ? '\\+' : '-';
    assert.match(text, new RegExp(`BLEU-1\\s+${a.metrics.bleu1.toFixed(4)}\\s+${b.metrics.bleu1.toFixed(4)}\\s+${sign}`));
    const missing = ws.caption(['diff', 'latest~5', 'latest'], { allowFail: true });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no run 'latest~5' \(latest runs: 0001-tiny, 0002-tiny/);
  });

  test('matrix: variants in a fixed order; a bad key or value is rejected with its line', () => {
    assert.deepEqual(expandMatrix({ 'features.backbone': ['a', 'b'], 'train.units': [1, 2] }), [
      { 'features.backbone': 'a', 'train.units': 1 }, { 'features.backbone': 'a', 'train.units': 2 },
      { 'features.backbone': 'b', 'train.units': 1 }, { 'features.backbone': 'b', 'train.units': 2 },
    ]);
    ws.writeFile('pipelines/bad-matrix.yaml', 'name: bad\nmatrix:\n  train.decoders: [gru]\n  features.backbone: [mobilenet_v2, resnet]\n');
    const r = ws.caption(['resolve', 'pipelines/bad-matrix.yaml'], { allowFail: true });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad-matrix\.yaml:3: matrix\.train\.decoders: unknown key \(allowed: seed, ingest\.dataset/);
    assert.match(r.stderr, /bad-matrix\.yaml:4: matrix\.features\.backbone\.1: must be one of: mobilenet_v2, inception_v3, inception_v3_pooled, efficientnet_b0, vgg16, centernet \(found "resnet"\)/);
  });

  test('matrix: first run computes each variant, the second is all cache hits; one comparison table', () => {
    const summaryOf = (r: RunRecord) => cacheStatus(JSON.parse(ws.readFile(r.summary)) as TurboSummary);
    const first = ws.caption(['run', 'pipelines/tiny-matrix.yaml']);
    const firstRuns = runs().slice(2);
    assert.deepEqual(firstRuns.map((r) => [r.id, r.variant, r.matrix]), [
      ['0003-tiny', { 'train.decoder': 'transformer' }, undefined],
      ['0004-tiny', { 'train.decoder': 'merge-lstm' }, '0003-tiny'],
    ]);
    for (const r of firstRuns) assert.deepEqual(summaryOf(r), { ...all('HIT'), train: 'MISS', evaluate: 'MISS' }, r.id);

    const second = ws.caption(['run', 'pipelines/tiny-matrix.yaml']);
    const secondRuns = runs().slice(4);
    assert.equal(secondRuns.length, 2);
    for (const r of secondRuns) assert.deepEqual(summaryOf(r), all('HIT'), r.id);
    secondRuns.forEach((r, i) => assert.deepEqual(r.metrics, firstRuns[i].metrics));

    for (const [out, recs] of [[first.stdout, firstRuns], [second.stdout, secondRuns]] as const) {
      const table = out.slice(out.indexOf('matrix tiny: 2 variants'));
      // CIDEr-D is a column only when the evaluate report has it.
      const cider = recs[0].metrics.ciderD !== undefined;
      assert.match(table, new RegExp(`^run\\s+train\\.decoder\\s+BLEU-1\\s+BLEU-4${cider ? '\\s+CIDEr-D' : ''}\\s+wall\\s+cached$`, 'm'));
      for (const r of recs) {
        const cached = recs === secondRuns ? '5/5' : '3/5';
        const scores = [r.metrics.bleu1, r.metrics.bleu4, ...(cider ? [r.metrics.ciderD] : [])].map((v) => v.toFixed(4)).join('\\s+');
        assert.match(table, new RegExp(`^${r.id}\\s+${r.variant!['train.decoder']}\\s+${scores}\\s+\\S+s\\s+${cached}$`, 'm'));
      }
    }
  });

  test('switching back to the first pipeline: status says it is in the cache, run restores the same artifacts', () => {
    const s = status('pipelines/tiny.yaml');
    assert.deepEqual(Object.fromEntries(STAGES.map((k) => [k, s[k].state])), all('cached'));
    assert.match(s.train.note!, /run 0001-tiny.*restores it/);
    ws.caption(['run', 'pipelines/tiny.yaml', '--quiet']);
    assert.deepEqual(cacheStatus(ws.lastTurboSummary()), all('HIT'));
    const latest = runs().at(-1)!;
    for (const k of STAGES) assert.equal(latest.stages[k].manifest, runs()[0].stages[k].manifest, k);
    assert.ok(readFileSync(path.join(ws.dir, 'artifacts/train/manifest.json'), 'utf8').includes('"attention-gru"'));
  });
});
