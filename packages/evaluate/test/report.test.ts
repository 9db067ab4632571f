import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PreviousRun } from '../src/previous-run.ts';
import { reportMarkdown } from '../src/report.ts';
import type { EvaluationReport } from '../src/transform.ts';

const report: EvaluationReport = {
  images: 2,
  bleu: [0.61234, 0.4, 0.25, 0.125],
  ciderD: 0.75,
  rougeL: 0.45,
  baseline: { caption: 'a dog on the grass', bleu: [0.5, 0.3, 0.2, 0.1], ciderD: 0.05, rougeL: 0.3 },
  perImage: [],
  samples: [
    { image_id: 'x.jpg', prediction: 'a red circle', references: ['a red circle', 'red circle'] },
    { image_id: 'y.jpg', prediction: '', references: ['a blue square'] },
  ],
};
const META = { pipeline: 'demo', split: 'test', decoder: 'attention-gru', backbone: 'mobilenet_v2' };
const HEADER = '| system | BLEU-1 | BLEU-2 | BLEU-3 | BLEU-4 | CIDEr-D | ROUGE-L |';

test('reportMarkdown: title, setup line, model/constant/delta rows with 4 decimals, all six metrics', () => {
  const md = reportMarkdown(report, META);
  const lines = md.split('\n');
  assert.equal(lines[0], '# Evaluation report — pipeline `demo`');
  assert.ok(lines.includes('2 test images, attention-gru decoder on mobilenet_v2 features, greedy decoding.'));
  assert.ok(lines.includes('The comparison with the previous run is not part of this artifact: `caption run` writes it to `.caption/reports/`.'), md);
  assert.ok(lines.includes(HEADER), md);
  assert.ok(lines.includes('| model | 0.6123 | 0.4000 | 0.2500 | 0.1250 | 0.7500 | 0.4500 |'), md);
  assert.ok(lines.includes('| constant: "a dog on the grass" | 0.5000 | 0.3000 | 0.2000 | 0.1000 | 0.0500 | 0.3000 |'), md);
  assert.ok(lines.includes('| model − constant | 0.1123 | 0.1000 | 0.0500 | 0.0250 | 0.7000 | 0.1500 |'), md);
  // rows in order: header, separator, model, constant, delta
  const header = lines.indexOf(HEADER);
  assert.equal(lines[header + 1], '|---|---|---|---|---|---|---|');
  assert.match(lines[header + 2], /^\| model \|/);
  assert.match(lines[header + 3], /^\| constant: /);
  assert.match(lines[header + 4], /^\| model − constant \|/);
  assert.equal(lines[header + 5], '');
});

test('reportMarkdown: a model below the constant shows a negative delta', () => {
  const md = reportMarkdown({ ...report, bleu: [0.4, 0.2, 0.1, 0.05], ciderD: 0.01 }, META);
  assert.ok(md.includes('| model − constant | -0.1000 | -0.1000 | -0.1000 | -0.0500 | -0.0400 | 0.1500 |'), md);
});

test('reportMarkdown: the previous run, its metrics and the deltas (metrics an old report lacks shown as –)', () => {
  const previous: PreviousRun = {
    id: '0003-flickr8k', pipeline: 'flickr8k', decoder: 'merge-lstm', decoding: 'greedy decoding',
    metrics: { bleu1: 0.5, bleu2: 0.3, bleu3: 0.2, bleu4: 0.1 },
  };
  const lines = reportMarkdown(report, META, previous, true).split('\n');
  assert.ok(lines.includes('Previous run: run 0003-flickr8k (pipeline `flickr8k`, merge-lstm, greedy decoding).'), lines.join('\n'));
  const at = lines.findIndex((l) => l.startsWith('| previous: '));
  assert.equal(lines[at], '| previous: run 0003-flickr8k (pipeline `flickr8k`, merge-lstm, greedy decoding) | 0.5000 | 0.3000 | 0.2000 | 0.1000 | – | – |');
  assert.equal(lines[at + 1], '| model − previous | 0.1123 | 0.1000 | 0.0500 | 0.0250 | – | – |');
});

test('reportMarkdown: samples list predictions (empty shown as such) with their references', () => {
  const md = reportMarkdown(report, META);
  const samples = md.slice(md.indexOf('## Sample predictions'));
  assert.equal(samples, [
    '## Sample predictions',
    '',
    '- **x.jpg**: a red circle',
    '  - ref: a red circle',
    '  - ref: red circle',
    '- **y.jpg**: (empty)',
    '  - ref: a blue square',
    '',
  ].join('\n'));
});

test('reportMarkdown: without a constant caption (no train split to draw one from) the row says so instead of scoring ""', () => {
  const md = reportMarkdown({ ...report, baseline: { caption: '', bleu: [0, 0, 0, 0], ciderD: 0, rougeL: 0 } }, META);
  const lines = md.split('\n');
  assert.ok(lines.includes('| constant: none (no train caption scores above 0 BLEU-4 here, or the data set has no train split) | – | – | – | – | – | – |'), md);
  assert.ok(lines.includes('| model − constant | – | – | – | – | – | – |'), md);
  assert.doesNotMatch(md, /constant: ""/);
});
