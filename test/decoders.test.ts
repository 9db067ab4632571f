/**
 * Every decoder, trained on the demo pipeline, beats the best constant caption by a wide margin (the
 * attention-gru case is in pipeline.test.ts). One workspace: ingest/features/tokenize run once and are
 * Turbo cache hits for the other decoders.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cacheStatus, createWorkspace, type Workspace } from './helpers/workspace.ts';

const pipeline = (train: string) => `name: decoders
seed: 42
ingest: { dataset: demo, demo: { images: 480, seed: 7 } }
features: { backbone: mobilenet_v2, batchSize: 32 }
tokenize: { vocabSize: 1000, maxLength: 20 }
train: { ${train} }
evaluate: { split: test, maxLength: 20 }
`;

const DECODERS: [string, string][] = [
  ['transformer', 'decoder: transformer, epochs: 8, batchSize: 64, embedDim: 128, units: 256, heads: 2, learningRate: 0.001, dropout: 0.1'],
  ['init-gru', 'decoder: init-gru, epochs: 8, batchSize: 64, embedDim: 128, units: 128, layers: 2, learningRate: 0.003'],
  ['merge-lstm', 'decoder: merge-lstm, epochs: 8, batchSize: 64, embedDim: 128, units: 128, learningRate: 0.003'],
];

let ws: Workspace;
before(() => (ws = createWorkspace()));
after(() => ws?.remove());

for (const [decoder, train] of DECODERS) {
  test(`${decoder} beats the best constant caption on the demo pipeline`, () => {
    ws.writeFile(`pipelines/${decoder}.yaml`, pipeline(train));
    ws.caption(['run', `pipelines/${decoder}.yaml`, '--quiet']);
    const status = cacheStatus(ws.lastTurboSummary());
    assert.equal(status.train, 'MISS');
    const report = JSON.parse(ws.readFile('artifacts/evaluate/report.json')) as { decoder: string; bleu: number[]; baseline: { bleu: number[] } };
    assert.equal(report.decoder, decoder);
    const margin = report.bleu[3] - report.baseline.bleu[3];
    console.log(`${decoder}: BLEU-4 ${report.bleu[3].toFixed(4)} vs constant ${report.baseline.bleu[3].toFixed(4)} (margin ${margin.toFixed(4)})`);
    assert.ok(margin >= 0.15, `${decoder}: margin ${margin.toFixed(4)} < 0.15`);
  });
}
