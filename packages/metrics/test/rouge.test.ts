import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TOLERANCE, checkScalarMetric, vectorsSkip } from './reference-vectors.ts';
import { corpusRougeL, lcsLength, sentenceRougeL } from '../src/rouge.ts';


const close = (actual: number, expected: number, label: string): void =>
  assert.ok(Math.abs(actual - expected) <= TOLERANCE, `${label}: got ${actual}, expected ${expected}`);

/** F_beta with beta = 1.2 as rouge.py writes it. */
const f = (p: number, r: number): number => ((1 + 1.44) * p * r) / (r + 1.44 * p);

test('rouge: LCS length', () => {
  assert.equal(lcsLength('a x c y d e'.split(' '), 'a b c d'.split(' ')), 3);
  assert.equal(lcsLength(['a', 'b'], ['b', 'a']), 1);
  assert.equal(lcsLength([], ['a']), 0);
});

test('rouge: identical sentence -> 1', () => {
  assert.equal(sentenceRougeL('a dog runs on the grass', ['a dog runs on the grass']), 1);
});

test('rouge: no overlap -> 0', () => {
  assert.equal(sentenceRougeL('w x y z', ['a b c d', 'e f']), 0);
});

test('rouge: known LCS case', () => {
  // LCS(a b c d, a x c y d e) = a c d: precision 3/4, recall 3/6
  close(sentenceRougeL('a b c d', ['a x c y d e']), f(0.75, 0.5), 'P=3/4 R=1/2');
  close(f(0.75, 0.5), 0.5791139240506329, 'closed form');
});

test('rouge: max precision and max recall are taken independently over references', () => {
  // ref 1 gives P=1, R=1/6; ref 2 gives P=1/2, R=1 -> pycocoevalcap combines P=1, R=1 -> 1
  assert.equal(sentenceRougeL('a b', ['a b c d e f', 'a']), 1);
});

test('rouge: single-space split (pycocoevalcap uses str.split(" "))', () => {
  // "a  b" -> ['a', '', 'b']: LCS with "a b" is 2, precision 2/3, recall 1
  close(sentenceRougeL('a  b', ['a b']), f(2 / 3, 1), 'double space');
});

test('rouge: corpus is the mean of per-image scores', () => {
  const result = corpusRougeL(new Map([['hit', 'a b'], ['miss', 'c d']]), new Map([['hit', ['a b']], ['miss', ['e f']], ['unused', ['x']]]));
  assert.deepEqual([...result.perImage], [['hit', 1], ['miss', 0]]);
  assert.equal(result.score, 0.5);
  assert.throws(() => corpusRougeL(new Map([['img', 'a']]), new Map()), /"img" has no references/);
});

const skip = vectorsSkip('ROUGE-L');

test('rouge: matches pycocoevalcap Rouge() on the flickr8k dev test vectors', { skip: skip ?? false }, (t) => checkScalarMetric(t, 'ROUGE_L', corpusRougeL));
