/**
 * report.html in headless Chromium: built from real inputs (a few Flickr8k test photos, their references,
 * captions and attention from a small real attention-gru on features taken from the pixels), then loaded
 * as a file: it renders, every image decodes, nothing is requested, no console errors, and the metrics
 * table shows report.json's numbers. Needs CAPTION_SHARED (the photos) and Chromium (CI installs it).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { canonicalJson, END, SPECIAL_TOKENS, decodeIds } from '@caption/core';
import { initTf, tf } from '@caption/core/tf';
import { standardize } from '../../tokenize/src/vocabulary.ts';
import { lossCurveSvg } from '../../train/src/loss-curve.ts';
import { CHROMIUM_PATH, chromiumAvailable, launchChromium } from '../../../scripts/chromium.ts';
import { reportMetrics, reportWithPrevious, type PreviousRun } from '../src/previous-run.ts';
import { reportHtml, type HtmlReportInput } from '../src/report-html.ts';
import { reportPictures, thumbnailUri } from '../src/report-images.ts';
import { METRICS, evaluateCaptions, normalise } from '../src/transform.ts';
import { createCaptionModel, greedyDecode } from '@caption/model';

const SHARED = process.env.CAPTION_SHARED;
const FLICKR = SHARED && path.join(SHARED, 'datasets', 'flickr8k');
const IMAGES = 8;   // test photos in the report
const SAMPLES = 3;  // of which in the gallery (with attention maps)
const GRID = 8;     // features: the photo at 8×8 pixels -> L = 64 positions of D = 3 (RGB)

let skip: string | false = false;
if (!SHARED) skip = 'CAPTION_SHARED is not set (needs $CAPTION_SHARED/datasets/flickr8k)';
else if (!chromiumAvailable()) {
  // CI installs Chromium (.ci/run): missing there is a failure, not a skip
  if (!process.env.CI) skip = `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`;
}
if (skip) console.warn(`\n*** report.html browser check SKIPPED: ${skip}\n`);

let tmp: string;
let browser: Browser | undefined;
let input: HtmlReportInput;
let reportJson: Record<string, unknown>;
let previous: PreviousRun;

/** Everything the page does wrong, as readable lines (empty = fine). */
async function inspect(page: Page, file: string): Promise<{ problems: string[]; images: number }> {
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(`console error: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url().slice(0, 80)}`));
  page.on('request', (r) => !/^(file|data):/.test(r.url()) && problems.push(`external request: ${r.url()}`));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  const images = await page.evaluate(() => [...document.images].map((i) => ({ alt: i.alt, ok: i.complete && i.naturalWidth > 0 })));
  for (const i of images) if (!i.ok) problems.push(`image did not load: ${i.alt}`);
  return { problems, images: images.length };
}

before(async () => {
  if (skip) return;
  if (!chromiumAvailable()) assert.fail(`CI is set but there is no Chromium at ${CHROMIUM_PATH}`);
  await initTf('wasm');
  tmp = await mkdtemp(path.join(os.tmpdir(), 'report-html-'));
  const text = path.join(FLICKR!, 'Flickr8k_text');
  const ids = readFileSync(path.join(text, 'Flickr_8k.testImages.txt'), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean).sort().slice(0, IMAGES);
  const references = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const line of readFileSync(path.join(text, 'Flickr8k.token.txt'), 'utf8').split('\n')) {
    const [key, caption] = line.split('\t');
    references.get(key?.split('#')[0])?.push(caption.trim());
  }
  const files = new Map(ids.map((id) => [id, { file: path.join(FLICKR!, 'Flicker8k_Dataset', id) }]));

  // a real attention-gru over features made from the pixels; <end> suppressed so every caption has words
  const words = [...new Set([...references.values()].flat().flatMap((c) => standardize(c)))].sort();
  const vocabulary = { tokens: [...SPECIAL_TOKENS, ...words], counts: [] };
  const features = new Map<string, Float32Array>();
  for (const [id, { file }] of files) {
    const { data } = await sharp(file).removeAlpha().resize(GRID, GRID, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
    features.set(id, Float32Array.from(data, (v) => v / 255));
  }
  const model = createCaptionModel({ decoder: 'attention-gru', featureShape: [GRID * GRID, 3], vocabSize: vocabulary.tokens.length, embedDim: 8, units: 8 }, 11);
  model.weights['fc2/bias'].assign(tf.tidy(() => tf.oneHot(tf.tensor1d([END], 'int32'), vocabulary.tokens.length).reshape([-1]).mul(-1e4)));
  const source = { shape: [GRID * GRID, 3] as [number, number], batch: (b: string[]) => Float32Array.from(b.flatMap((id) => [...features.get(id)!])) };
  const decoded = greedyDecode(model, source, ids, 6, 4);

  const report = evaluateCaptions({
    references,
    predictions: new Map(ids.map((id, i) => [id, decodeIds(decoded[i].tokens, vocabulary)])),
    trainCaptions: [...references.values()].flat(),
    baselineCandidates: 10,
    samples: SAMPLES,
  });
  // the stage's own picture step: thumbnails of gallery + best/worst, attention panels for the gallery
  const { thumbnails, attention } = await reportPictures(files, report, new Map(ids.map((id, i) => [id, decoded[i]])), vocabulary, GRID * GRID);
  previous = {
    id: '0007-flickr8k-merge', pipeline: 'flickr8k-merge', decoder: 'merge-lstm', decoding: 'greedy decoding',
    metrics: { bleu1: 0.5, bleu2: 0.3, bleu3: 0.2, bleu4: 0.1, ciderD: 0.4, rougeL: 0.35 },
  };
  const history = [1, 2, 3].map((epoch) => ({ epoch, step: epoch * 10, loss: 4 / epoch, dev_loss: 4.2 / epoch + 0.1, lr: 1e-3 }));
  const { perImage: _, ...summary } = report;
  reportJson = JSON.parse(canonicalJson({ pipeline: 'test', ...summary })); // what the stage writes as report.json
  input = {
    report,
    meta: { pipeline: 'flickr8k-check', split: 'test', decoder: 'attention-gru', backbone: 'pixels-8x8', decoding: 'greedy decoding' },
    lossCurveSvg: lossCurveSvg(history, 'flickr8k-check: attention-gru'),
    references: new Map([...references].map(([id, rs]) => [id, rs.map(normalise)])),
    thumbnails, attention,
  };
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('report.html (caption run\'s copy, with the previous run) renders in Chromium: every image loads, no requests, no console errors, metrics from report.json', { skip }, async () => {
  const file = path.join(tmp, 'report.html');
  const html = reportWithPrevious({ reportJson, html: reportHtml(input) }, previous).html;
  await writeFile(file, html);
  const page = await browser!.newPage();
  const { problems, images } = await inspect(page, file);
  assert.deepEqual(problems, []);

  // thumbnails (gallery + best/worst, one per card) and one attention panel per emitted word of the gallery
  const panels = [...input.attention.values()].reduce((n, p) => n + p.length, 0);
  assert.equal(input.attention.size, SAMPLES);
  assert.ok(panels >= SAMPLES, `${panels} attention panels`);
  assert.equal(await page.locator('.attn figure').count(), panels);
  const cards = await page.locator('.card img.photo').count();
  assert.equal(cards, SAMPLES + 2 * 5);
  assert.equal(images, cards + panels);

  // the metrics table holds report.json's numbers (4 decimals) for the model, and the previous run's row
  const expected = reportMetrics(reportJson);
  assert.equal(Object.keys(expected).length, METRICS.length);
  const row = async (key: string) => Object.fromEntries(await page.locator(`#metrics tr[data-row="${key}"] td[data-metric]`).evaluateAll(
    (tds) => tds.map((td) => [td.getAttribute('data-metric'), td.textContent])));
  assert.deepEqual(await row('model'), Object.fromEntries(METRICS.map((m) => [m, expected[m]!.toFixed(4)])));
  assert.equal((await row('previous')).ciderD, '0.4000');
  const delta = (m: (typeof METRICS)[number]) => expected[m]! - previous.metrics[m]!;
  assert.equal((await row('model-previous')).bleu4, `${delta('bleu4') > 0 ? '+' : ''}${delta('bleu4').toFixed(4)}`);
  assert.match(await page.locator('#previous').innerText(), /run 0007-flickr8k-merge \(pipeline flickr8k-merge, merge-lstm, greedy decoding\)/);
  // the loss curve is drawn inline, with both lines
  assert.equal(await page.locator('.loss svg polyline').count(), 2);
  await page.close();
});

test('report.html is deterministic: same inputs, byte-identical page (pictures re-encoded too)', { skip }, async () => {
  const again = new Map<string, string>();
  for (const id of input.thumbnails.keys()) {
    again.set(id, (await thumbnailUri({ file: path.join(FLICKR!, 'Flicker8k_Dataset', id) }))!);
  }
  assert.equal(reportHtml({ ...input, thumbnails: again }), reportHtml(input));
  // the artifact's page never compares (its bytes depend on its inputs only); caption run's copy without an
  // earlier run says there is nothing to compare with
  const page = reportHtml(input);
  assert.match(page, /not part of this artifact/);
  assert.doesNotMatch(page, /data-row="previous"/);
  const first = reportWithPrevious({ reportJson, html: page }, undefined).html;
  assert.match(first, /No earlier run in the runs history/);
  assert.doesNotMatch(first, /data-row="previous"/);
  assert.equal(first.replace(/<p class="note" id="previous">.*?<\/p>/, ''), page.replace(/<p class="note" id="previous">.*?<\/p>/, ''));
});

test('the browser check itself catches a broken image and an external request', { skip }, async () => {
  const file = path.join(tmp, 'broken.html');
  await writeFile(file, '<!DOCTYPE html><html><body><img alt="broken" src="data:image/jpeg;base64,AAAA"><img alt="remote" src="http://127.0.0.1:9/x.png"></body></html>');
  const page = await browser!.newPage();
  const { problems } = await inspect(page, file);
  assert.ok(problems.some((p) => p.includes('image did not load: broken')), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('external request: http://127.0.0.1:9/')), problems.join('\n'));
  await page.close();
});
