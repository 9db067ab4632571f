/** caption run's copy of a report: the artifact's report rendered again beside the previous run of the history. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reportMetrics, reportWithPrevious, type PreviousRun } from '../src/previous-run.ts';
import { reportHtml } from '../src/report-html.ts';
import { reportMarkdown } from '../src/report.ts';
import type { EvaluationReport } from '../src/transform.ts';

const report: EvaluationReport = {
  images: 2,
  bleu: [0.6, 0.4, 0.25, 0.125],
  ciderD: 0.75,
  rougeL: 0.45,
  baseline: { caption: 'a dog', bleu: [0.5, 0.3, 0.2, 0.1], ciderD: 0.05, rougeL: 0.3 },
  perImage: [{ image_id: 'x.jpg', prediction: 'a red circle', bleu: [1, 1, 1, 1], ciderD: 1, rougeL: 1 }],
  samples: [{ image_id: 'x.jpg', prediction: 'a red circle', references: ['a red circle'] }],
};
const meta = { pipeline: 'demo', split: 'test', decoder: 'attention-gru', backbone: 'mobilenet_v2', decoding: 'greedy decoding' };
const { perImage: _, ...summary } = report;
const reportJson = { ...meta, ...summary } as Record<string, unknown>; // what the stage writes as report.json
const artifactHtml = reportHtml({ report, meta, references: new Map(), thumbnails: new Map(), attention: new Map() });
const previous: PreviousRun = { id: '0002-demo', pipeline: 'demo', decoder: 'merge-lstm', decoding: 'greedy decoding', metrics: { bleu4: 0.1, ciderD: 0.5 } };

test('reportWithPrevious: the Markdown gains the previous run and its deltas, the rest is the artifact\'s', () => {
  const { markdown } = reportWithPrevious({ reportJson, html: artifactHtml }, previous);
  assert.match(markdown, /^\| previous: run 0002-demo \(pipeline `demo`, merge-lstm, greedy decoding\) \| – \| – \| – \| 0\.1000 \| 0\.5000 \| – \|$/m);
  assert.match(markdown, /^\| model − previous \| – \| – \| – \| 0\.0250 \| 0\.2500 \| – \|$/m);
  const artifactMd = reportMarkdown(report, meta);
  const strip = (md: string) => md.split('\n').filter((l) => !/previous/i.test(l)).join('\n');
  assert.equal(strip(markdown), strip(artifactMd));
});

test('reportWithPrevious: the HTML gets the previous rows and note; pictures and the rest are untouched', () => {
  const { html } = reportWithPrevious({ reportJson, html: artifactHtml }, previous);
  assert.match(html, /<tr data-row="previous"/);
  assert.match(html, /<td data-metric="ciderD" class="pos">\+0\.2500<\/td>/);
  assert.match(html, /<p class="note" id="previous">Previous run: run 0002-demo/);
  assert.doesNotMatch(artifactHtml, /data-row="previous"/);
  const body = (h: string) => h.slice(h.indexOf('<h2>Loss curves</h2>'));
  assert.equal(body(html), body(artifactHtml));
});

test('reportWithPrevious: no previous run -> says so, no comparison rows', () => {
  const { markdown, html } = reportWithPrevious({ reportJson, html: artifactHtml }, undefined);
  assert.match(markdown, /No earlier run in the runs history/);
  assert.match(html, /No earlier run in the runs history/);
  assert.doesNotMatch(markdown + html, /model − previous/);
});

test('reportMetrics: non-numeric or missing values are left out', () => {
  assert.deepEqual(reportMetrics({ bleu: [0.5, 'x'], ciderD: null, rougeL: 0.3 }), { bleu1: 0.5, rougeL: 0.3 });
  assert.deepEqual(reportMetrics({}), {});
});
