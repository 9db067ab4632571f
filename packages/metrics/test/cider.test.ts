import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TOLERANCE, checkScalarMetric, vectorsSkip } from './reference-vectors.ts';
import { corpusCider } from '../src/cider.ts';


const close = (actual: number, expected: number, label: string): void =>
  assert.ok(Math.abs(actual - expected) <= TOLERANCE, `${label}: got ${actual}, expected ${expected}`);

const cider = (hyps: Record<string, string>, refs: Record<string, string[]>) =>
  corpusCider(new Map(Object.entries(hyps)), new Map(Object.entries(refs)));

// pycocoevalcap: ref_len = log(#images) and idf = ref_len - log(max(1, df)). With one image, every n-gram of the
// references has df = 1, so every weight is log(1) - log(1) = 0, every norm is 0, every similarity stays 0:
// Cider() gives 0.0 even for a hypothesis identical to all references.
test('cider: single image, hypothesis identical to every reference -> 0 (idf is log(1) = 0)', () => {
  const result = cider({ img: 'a dog runs on the grass' }, { img: ['a dog runs on the grass', 'a dog runs on the grass'] });
  assert.equal(result.score, 0);
  assert.equal(result.perImage.get('img'), 0);
});

test('cider: identical captions with disjoint vocabularies -> 10 (cosine 1 for all four orders, x10)', () => {
  const result = cider({ a: 'a dog runs on grass', b: 'two cats sleep inside now' }, { a: ['a dog runs on grass'], b: ['two cats sleep inside now'] });
  close(result.perImage.get('a')!, 10, 'a');
  close(result.perImage.get('b')!, 10, 'b');
  close(result.score, 10, 'corpus');
});

test('cider: n-grams present in every image get idf 0; orders with no n-grams contribute 0', () => {
  // 'a' has df 2 = #images -> weight 0; 'b' and 'a b' have df 1. Unigram and bigram cosines are 1,
  // trigram/4-gram vectors are empty -> mean(1, 1, 0, 0) * 10 = 5
  const result = cider({ x: 'a b', y: 'a c' }, { x: ['a b'], y: ['a c'] });
  close(result.perImage.get('x')!, 5, 'x');
  close(result.perImage.get('y')!, 5, 'y');
});

test('cider: CIDEr-D clipping and Gaussian length penalty', () => {
  // hyp 'p p' vs ref 'p' (other image disjoint): unigram weights 2w vs w (w = log 2), numerator
  // min(2w, w) * w = w^2, norms 2w * w -> 1/2. Length (pycocoevalcap counts bigrams) 1 vs 0 -> exp(-1/72).
  const clipped = cider({ x: 'p p', y: 'z' }, { x: ['p'], y: ['z'] });
  close(clipped.perImage.get('x')!, (10 * 0.5 * Math.exp(-1 / 72)) / 4, 'clipped');
  // the other way round ('p' vs 'p p') is not clipped: cosine 1, same penalty
  const unclipped = cider({ x: 'p', y: 'z' }, { x: ['p p'], y: ['z'] });
  close(unclipped.perImage.get('x')!, (10 * Math.exp(-1 / 72)) / 4, 'unclipped');
});

test('cider: per-image score averages over references; document frequency counts images, not references', () => {
  // image x has two references; 'p' occurs in both but counts once (df 1). Similarity with 'p' is 1 for
  // unigrams (penalty 1), with 'q' it is 0 -> (1/4 + 0) / 2 refs * 10 = 1.25
  const result = cider({ x: 'p', y: 'z' }, { x: ['p', 'q'], y: ['z'] });
  close(result.perImage.get('x')!, 1.25, 'x');
  close(result.score, (1.25 + 2.5) / 2, 'corpus');
});

test('cider: hypothesis without references is an error', () => {
  assert.throws(() => cider({ img: 'a b' }, {}), /"img" has no references/);
});

const skip = vectorsSkip('CIDEr-D');

test('cider: matches pycocoevalcap Cider() on the flickr8k dev test vectors', { skip: skip ?? false }, (t) => checkScalarMetric(t, 'CIDEr', corpusCider));
