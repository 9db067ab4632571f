import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reportMarkdown } from '../src/report.ts';
import type { BleuReport } from '../src/transform.ts';

const report: BleuReport = {
  images: 2,
  bleu: [0.61234, 0.4, 0.25, 0.125],
  baseline: { caption: 'a dog on the grass', bleu: [0.5, 0.3, 0.2, 0.1] },
  perImage: [],
  samples: [
    { image_id: 'x.jpg', prediction: 'a red circle', references: ['a red circle', 'red circle'] },
    { image_id: 'y.jpg', prediction: '', references: ['a blue square'] },
  ],
};
const META = { pipeline: 'demo', split: 'test', decoder: 'attention-gru', backbone: 'mobilenet_v2' };

test('reportMarkdown: title, setup line, model/constant/delta rows with 4 decimals', () => {
  const md = reportMarkdown(report, META);
  const lines = md.split('\n');
  assert.equal(lines[0], '# BLEU report — pipeline `demo`');
  assert.ok(lines.includes('2 test images, attention-gru decoder on mobilenet_v2 features, greedy decoding.'));
  assert.ok(lines.includes('| system | BLEU-1 | BLEU-2 | BLEU-3 | BLEU-4 |'));
  assert.ok(lines.includes('| model | 0.6123 | 0.4000 | 0.2500 | 0.1250 |'), md);
  assert.ok(lines.includes('| constant: "a dog on the grass" | 0.5000 | 0.3000 | 0.2000 | 0.1000 |'), md);
  assert.ok(lines.includes('| model − constant | 0.1123 | 0.1000 | 0.0500 | 0.0250 |'), md);
  // rows in order: header, separator, model, constant, delta
  const header = lines.indexOf('| system | BLEU-1 | BLEU-2 | BLEU-3 | BLEU-4 |');
  assert.match(lines[header + 1], /^\|---\|/);
  assert.match(lines[header + 2], /^\| model \|/);
  assert.match(lines[header + 3], /^\| constant: /);
  assert.match(lines[header + 4], /^\| model − constant \|/);
});

test('reportMarkdown: a model below the constant shows a negative delta', () => {
  const md = reportMarkdown({ ...report, bleu: [0.4, 0.2, 0.1, 0.05] }, META);
  assert.ok(md.includes('| model − constant | -0.1000 | -0.1000 | -0.1000 | -0.0500 |'), md);
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
