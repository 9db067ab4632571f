import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TOLERANCE, loadVectors, vectorsSkip } from './reference-vectors.ts';
import { corpusBleu, tokenizeForBleu, type BleuByOrder } from '../src/bleu.ts';



function assertScores(actual: readonly number[], expected: readonly number[], label: string): void {
  assert.equal(actual.length, expected.length, label);
  actual.forEach((value, k) => {
    assert.ok(Math.abs(value - expected[k]) <= TOLERANCE, `${label} Bleu_${k + 1}: got ${value}, expected ${expected[k]}`);
  });
}

const e = Math.E;
const cases: { name: string; hypothesis: string; references: string[]; bleu: BleuByOrder; referenceLength: number }[] = [
  { name: 'identical sentence', hypothesis: 'a dog runs on the grass', references: ['a dog runs on the grass'], bleu: [1, 1, 1, 1], referenceLength: 6 },
  { name: 'brevity penalty exp(1 - 8/4)', hypothesis: 'a b c d', references: ['a b c d e f g h'], bleu: [1 / e, 1 / e, 1 / e, 1 / e], referenceLength: 8 },
  { name: 'no matching n-grams', hypothesis: 'w x y z', references: ['a b c d'], bleu: [0, 0, 0, 0], referenceLength: 4 },
  // clipping: 'the' max 2 (4 guessed), 'the the' max 1 (3 guessed), no tri/4-gram matches. pycocoevalcap adds
  // tiny = 1e-15 to zero counts, so Bleu_3 = cbrt(1/2 * 1/3 * 1e-15/2) ~ 4.4e-6 is not below 1e-6.
  {
    name: 'clipped counts (and the tiny-count quirk)', hypothesis: 'the the the the', references: ['the cat', 'the the dog'],
    bleu: [0.5, Math.sqrt(1 / 6), (1 / 6 * 0.5e-15) ** (1 / 3), (1 / 6 * 0.5e-15 * 1e-15) ** (1 / 4)], referenceLength: 3,
  },
  // closest reference length: |4-5| = |6-5|, tie goes to the shorter (4) so no brevity penalty
  { name: 'closest length tie -> shorter', hypothesis: 'a b c d e', references: ['a b c d e f', 'a b c d'], bleu: [1, 1, 1, 1], referenceLength: 4 },
  // Python str.split(): runs of whitespace (tabs included) never produce empty tokens
  { name: 'whitespace runs split like str.split()', hypothesis: ' a  b\tc d ', references: ['a b c d'], bleu: [1, 1, 1, 1], referenceLength: 4 },
];

for (const c of cases) {
  test(`bleu: ${c.name}`, () => {
    const result = corpusBleu(new Map([['img', c.hypothesis]]), new Map([['img', c.references]]));
    assertScores(result.bleu, c.bleu, 'corpus');
    assertScores(result.perImage.get('img')!, c.bleu, 'per-image');
    assert.equal(result.referenceLength, c.referenceLength);
  });
}

test('bleu: corpus sums counts over sentences before taking precisions', () => {
  const result = corpusBleu(
    new Map([['hit', 'a b c d'], ['miss', 'a b c d']]),
    new Map([['hit', ['a b c d']], ['miss', ['e f g h']], ['unused', ['x']]]),
  );
  // unigrams 4/8, bigrams 3/6, trigrams 2/4, 4-grams 1/2 -> every order is 0.5
  assertScores(result.bleu, [0.5, 0.5, 0.5, 0.5], 'corpus');
  assertScores(result.perImage.get('hit')!, [1, 1, 1, 1], 'hit');
  assertScores(result.perImage.get('miss')!, [0, 0, 0, 0], 'miss');
  assert.deepEqual([...result.perImage.keys()], ['hit', 'miss']);
  assert.equal(result.testLength, 8);
  assert.equal(result.referenceLength, 8);
});

test('bleu: tokenizer drops empty tokens', () => {
  assert.deepEqual(tokenizeForBleu('  a\u00a0b \n c  '), ['a', 'b', 'c']);
  assert.deepEqual(tokenizeForBleu(''), []);
});

test('bleu: hypothesis without references is an error', () => {
  assert.throws(() => corpusBleu(new Map([['img', 'a b']]), new Map()), /"img" has no references/);
  assert.throws(() => corpusBleu(new Map([['img', 'a b']]), new Map([['img', []]])), /"img" has no references/);
});

const skipMessage = vectorsSkip('BLEU');

test('bleu: matches pycocoevalcap Bleu(4) on the flickr8k dev test vectors', { skip: skipMessage ?? false }, (t) => {
  const vectors = loadVectors();
  const references = new Map(Object.entries(vectors.references));
  assert.ok(Object.keys(vectors.systems).length > 0, 'no systems in test vectors');
  for (const [system, data] of Object.entries(vectors.systems)) {
    const result = corpusBleu(new Map(Object.entries(data.hypotheses)), references);
    const corpusDeviation = result.bleu.map((score, k) => Math.abs(score - data.corpus[`Bleu_${k + 1}`]));
    const perImageDeviation = [0, 0, 0, 0];
    let perImageChecked = 0;
    for (const [image, expected] of Object.entries(data.per_image ?? {})) {
      const actual = result.perImage.get(image);
      assert.ok(actual, `${system}: no per-image score for ${image}`);
      for (let k = 0; k < 4; k++) {
        const want = expected[`Bleu_${k + 1}`];
        if (want === undefined) continue;
        perImageChecked++;
        perImageDeviation[k] = Math.max(perImageDeviation[k], Math.abs(actual[k] - want));
        assert.ok(Math.abs(actual[k] - want) <= TOLERANCE, `${system} ${image} Bleu_${k + 1}: got ${actual[k]}, expected ${want}`);
      }
    }
    t.diagnostic(`${system}: max |corpus dev| ${corpusDeviation.map((d) => d.toExponential(2)).join(' ')}; ` +
      `max |per-image dev| ${perImageDeviation.map((d) => d.toExponential(2)).join(' ')} over ${perImageChecked} values`);
    assertScores(result.bleu, [1, 2, 3, 4].map((n) => data.corpus[`Bleu_${n}`]), system);
  }
});
