import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bestConstantCaption, evaluateCaptions, metricValues, normalise } from '../src/transform.ts';
import { corpusBleu, corpusCider, corpusRougeL } from '@caption/metrics';

const close = (a: readonly number[], b: readonly number[], msg = '') =>
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) < 1e-9, `${msg} order ${i + 1}: ${x} vs ${b[i]}`));

test('normalise: coco-caption PTB tokenisation, joined by single spaces', () => {
  assert.equal(normalise('  A Dog, running!  '), 'a dog running');
  assert.equal(normalise("The dog's ball isn't red."), "the dog 's ball is n't red");
  assert.equal(normalise('...'), '');
});

// refs where the answer is known: every image has 'a red circle on the grass' as a reference
const refs = new Map([
  ['i1', ['a red circle on the grass', 'a circle']],
  ['i2', ['a red circle on the grass', 'the blue square']],
  ['i3', ['a red circle on the grass today']],
]);
const ids = ['i1', 'i2', 'i3'];

test('bestConstantCaption: picks the candidate with the best corpus BLEU-4, not the most frequent', () => {
  const train = [
    'the blue square', 'the blue square', 'the blue square', // most frequent, poor BLEU-4
    'A red circle on the grass.',                              // best, once (normalised before counting)
    'a red circle',
  ];
  const best = bestConstantCaption(train, refs, ids, 10);
  assert.equal(best.caption, 'a red circle on the grass');
  close(best.bleu, corpusBleu(new Map(ids.map((id) => [id, best.caption])), refs).bleu);
  // beats every other candidate on BLEU-4
  for (const c of ['the blue square', 'a red circle']) {
    assert.ok(corpusBleu(new Map(ids.map((id) => [id, c])), refs).bleu[3] < best.bleu[3], c);
  }
});

test('bestConstantCaption: only the top-N most frequent captions are candidates (ties alphabetical)', () => {
  const train = ['b blue square', 'b blue square', 'a blue square', 'a blue square', 'a red circle on the grass'];
  // top-2 by count: 'a blue square', 'b blue square' -> the best caption is not a candidate
  assert.notEqual(bestConstantCaption(train, refs, ids, 2).caption, 'a red circle on the grass');
  assert.equal(bestConstantCaption(train, refs, ids, 3).caption, 'a red circle on the grass');
  // with one candidate, the alphabetical tie-break decides which
  assert.equal(bestConstantCaption(['z the', 'a the', 'z the', 'a the'], new Map([['x', ['a the']]]), ['x'], 1).caption, 'a the');
});

test('bestConstantCaption: empty captions are not candidates; no candidates -> empty caption, zero BLEU', () => {
  assert.deepEqual(bestConstantCaption(['...', '  '], refs, ids, 5), { caption: '', bleu: [0, 0, 0, 0] });
  assert.deepEqual(bestConstantCaption([], refs, ids, 5), { caption: '', bleu: [0, 0, 0, 0] });
});

test('evaluateCaptions: punctuation and case do not matter on either side', () => {
  const base = {
    references: new Map([['p', ['A dog runs on the grass.']], ['q', ['Two cats, sleeping!']]]),
    trainCaptions: ['a dog runs on the grass'],
    baselineCandidates: 5,
    samples: 1,
  };
  const messy = evaluateCaptions({ ...base, predictions: new Map([['p', 'a DOG runs, on the grass'], ['q', 'two cats sleeping .']]) });
  const clean = evaluateCaptions({
    ...base,
    references: new Map([['p', ['a dog runs on the grass']], ['q', ['two cats sleeping']]]),
    predictions: new Map([['p', 'a dog runs on the grass'], ['q', 'two cats sleeping']]),
  });
  close(messy.bleu, [1, 1, 1, 1]);
  assert.deepEqual(messy.bleu, clean.bleu);
  close(messy.perImage[0].bleu, [1, 1, 1, 1]);
  assert.deepEqual(messy.perImage.map((r) => [r.image_id, r.prediction]), [['p', 'a dog runs on the grass'], ['q', 'two cats sleeping']]);
  assert.equal(messy.images, 2);
  assert.deepEqual(messy.samples, [{ image_id: 'p', prediction: 'a dog runs on the grass', references: ['a dog runs on the grass'] }]);
  assert.equal(messy.baseline.caption, 'a dog runs on the grass');
});

test('evaluateCaptions: BLEU, CIDEr-D and ROUGE-L match the scorers on the tokenized text; samples capped', () => {
  const references = new Map([['a', ['A red circle.', 'red circle']], ['b', ['A blue square']], ['c', ["the man's triangle"]], ['d', ['a red square']]]);
  const predictions = new Map([['a', 'A red circle'], ['b', 'a red square'], ['c', "Man's!"], ['d', 'a red square']]);
  const r = evaluateCaptions({ references, predictions, trainCaptions: ['a red circle', 'A red circle!'], baselineCandidates: 3, samples: 2 });
  const hyps = new Map([['a', 'a red circle'], ['b', 'a red square'], ['c', "man 's"], ['d', 'a red square']]);
  const refs = new Map([['a', ['a red circle', 'red circle']], ['b', ['a blue square']], ['c', ["the man 's triangle"]], ['d', ['a red square']]]);
  const bleu = corpusBleu(hyps, refs);
  const cider = corpusCider(hyps, refs);
  const rouge = corpusRougeL(hyps, refs);
  close(r.bleu, bleu.bleu);
  assert.ok(r.ciderD > 0 && Math.abs(r.ciderD - cider.score) < 1e-12, `${r.ciderD} vs ${cider.score}`);
  assert.ok(r.rougeL > 0 && Math.abs(r.rougeL - rouge.score) < 1e-12, `${r.rougeL} vs ${rouge.score}`);
  for (const row of r.perImage) {
    close(row.bleu, bleu.perImage.get(row.image_id)!, row.image_id);
    assert.equal(row.ciderD, cider.perImage.get(row.image_id));
    assert.equal(row.rougeL, rouge.perImage.get(row.image_id));
  }
  assert.equal(r.perImage.find((p) => p.image_id === 'c')!.prediction, "man 's");
  // the constant baseline is scored on every metric, for its one caption
  const constant = new Map([...hyps.keys()].map((id) => [id, 'a red circle']));
  assert.equal(r.baseline.caption, 'a red circle');
  assert.equal(r.baseline.ciderD, corpusCider(constant, refs).score);
  assert.equal(r.baseline.rougeL, corpusRougeL(constant, refs).score);
  assert.deepEqual(Object.keys(metricValues(r)), ['bleu1', 'bleu2', 'bleu3', 'bleu4', 'ciderD', 'rougeL']);
  assert.equal(metricValues(r).bleu3, r.bleu[2]);
  assert.equal(r.samples.length, 2);
  assert.equal(r.images, 4);
});
