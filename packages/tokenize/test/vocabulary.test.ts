import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_STANDARDIZE, buildVocabulary, encodeWords, lengthPercentile, standardize, tokenIndex, type StandardizeOptions } from '../src/vocabulary.ts';
import { END, PAD, SPECIAL_TOKENS, START, UNK, decodeIds, type Vocabulary } from '@caption/core';

const standardizeCases: [string, string, string[]][] = [
  ['lower-cases', 'A Dog RUNS', ['a', 'dog', 'runs']],
  ['punctuation becomes a word break', 'dog,cat.bird!  "quoted" (x) - y', ['dog', 'cat', 'bird', 'quoted', 'x', 'y']],
  ['apostrophes and hyphens split words', "the dog's red-and-white ball", ['the', 'dog', 's', 'red', 'and', 'white', 'ball']],
  ['digits are kept', 'Two 2 dogs at 10:30 in 1999', ['two', '2', 'dogs', 'at', '10', '30', 'in', '1999']],
  ['unicode letters are kept (and lower-cased)', 'Ein Hund läuft über die Straße; ÉCOLE naïve café', ['ein', 'hund', 'läuft', 'über', 'die', 'straße', 'école', 'naïve', 'café']],
  ['non-Latin scripts are letters too', 'Собака бежит 犬が走る', ['собака', 'бежит', '犬が走る']],
  ['tabs, newlines and runs of spaces', '\t a \n\n b   c \r\n', ['a', 'b', 'c']],
  ['only punctuation -> no words', ' . , ! ? ', []],
  ['< and > are kept (special-token look-alikes survive)', '<start> <unk>!', ['<start>', '<unk>']],
  ['empty', '', []],
];

for (const [name, input, expected] of standardizeCases) {
  test(`standardize: ${name}`, () => assert.deepEqual(standardize(input), expected));
}

test('special token ids are 0..3 in the documented order', () => {
  assert.deepEqual([PAD, UNK, START, END], [0, 1, 2, 3]);
  assert.deepEqual([...SPECIAL_TOKENS], ['<pad>', '<unk>', '<start>', '<end>']);
});

const train = (lines: string[]) => lines.map((l) => standardize(l));

const vocabCases: { name: string; captions: string[]; size: number; minCount: number; words: string[]; counts: number[] }[] = [
  {
    name: 'ranked by count',
    captions: ['dog dog dog cat cat bird'], size: 10, minCount: 1,
    words: ['dog', 'cat', 'bird'], counts: [3, 2, 1],
  },
  {
    name: 'ties broken alphabetically',
    captions: ['zebra apple mango', 'mango zebra apple', 'kiwi'], size: 10, minCount: 1,
    words: ['apple', 'mango', 'zebra', 'kiwi'], counts: [2, 2, 2, 1],
  },
  {
    name: 'top-k keeps the k most frequent (tie-break decides the cut)',
    captions: ['a a a b b c c d'], size: 2, minCount: 1,
    words: ['a', 'b'], counts: [3, 2],
  },
  {
    name: 'minCount drops rare words before the top-k cut',
    captions: ['x x x y y z w'], size: 10, minCount: 2,
    words: ['x', 'y'], counts: [3, 2],
  },
  {
    name: 'counts are over all captions',
    captions: ['b a', 'a c', 'a b'], size: 10, minCount: 1,
    words: ['a', 'b', 'c'], counts: [3, 2, 1],
  },
  { name: 'no captions', captions: [], size: 10, minCount: 1, words: [], counts: [] },
];

for (const c of vocabCases) {
  test(`buildVocabulary: ${c.name}`, () => {
    const v = buildVocabulary(train(c.captions), c.size, c.minCount);
    assert.deepEqual(v.tokens, [...SPECIAL_TOKENS, ...c.words]);
    assert.deepEqual(v.counts, [0, 0, 0, 0, ...c.counts]);
  });
}

test('buildVocabulary: independent of caption order', () => {
  const lines = ['the dog runs', 'a cat sits', 'the cat runs', 'a dog sits', 'one bird'];
  const a = buildVocabulary(train(lines), 5, 1);
  const b = buildVocabulary(train([...lines].reverse()), 5, 1);
  assert.deepEqual(a, b);
  assert.equal(a.tokens.length, 4 + 5);
});

const vocab: Vocabulary = buildVocabulary(train(['a dog runs', 'a dog sits', 'a cat']), 100, 1);
const index = tokenIndex(vocab);

test('tokenIndex maps each token to its id', () => {
  vocab.tokens.forEach((t, i) => assert.equal(index.get(t), i));
  assert.equal(index.get('<end>'), END);
  assert.equal(index.size, vocab.tokens.length);
});

const encodeCases: { name: string; words: string[]; maxLength: number; ids: (string | number)[]; truncated: boolean }[] = [
  { name: 'wraps in <start>/<end>', words: ['a', 'dog'], maxLength: 10, ids: [START, 'a', 'dog', END], truncated: false },
  { name: 'unknown words -> <unk>', words: ['a', 'horse'], maxLength: 10, ids: [START, 'a', UNK, END], truncated: false },
  { name: 'exactly maxLength is not truncated', words: ['a', 'dog', 'runs'], maxLength: 5, ids: [START, 'a', 'dog', 'runs', END], truncated: false },
  { name: 'longer is truncated and keeps <end>', words: ['a', 'dog', 'runs', 'cat'], maxLength: 5, ids: [START, 'a', 'dog', 'runs', END], truncated: true },
  { name: 'minimum maxLength 3', words: ['a', 'dog'], maxLength: 3, ids: [START, 'a', END], truncated: true },
  { name: 'no words', words: [], maxLength: 3, ids: [START, END], truncated: false },
];

for (const c of encodeCases) {
  test(`encodeWords: ${c.name}`, () => {
    const r = encodeWords(c.words, index, c.maxLength);
    assert.ok(r.ids instanceof Int32Array);
    assert.deepEqual(Array.from(r.ids), c.ids.map((x) => (typeof x === 'string' ? index.get(x)! : x)));
    assert.ok(r.ids.length <= c.maxLength);
    assert.equal(r.truncated, c.truncated);
  });
}

const id = (w: string) => index.get(w)!;
const decodeCases: [string, number[], string][] = [
  ['plain', [START, id('a'), id('dog'), END], 'a dog'],
  ['stops at the first <end>', [START, id('a'), END, id('cat'), END], 'a'],
  ['skips <start> and <pad> anywhere', [PAD, START, id('a'), PAD, START, id('cat'), END, PAD], 'a cat'],
  ['<unk> is spelled out', [id('a'), UNK, id('runs')], 'a <unk> runs'],
  ['out-of-range ids read as <unk>', [id('a'), 999], 'a <unk>'],
  ['no <end>: runs to the end', [id('dog'), id('sits')], 'dog sits'],
  ['empty', [], ''],
];

for (const [name, ids, text] of decodeCases) {
  test(`decodeIds: ${name}`, () => {
    assert.equal(decodeIds(ids, vocab), text);
    assert.equal(decodeIds(Int32Array.from(ids), vocab), text);
  });
}

test('decodeIds(encodeWords(w)) round-trips in-vocabulary words', () => {
  const words = standardize('A dog, a cat.');
  assert.equal(decodeIds(encodeWords(words, index, 24).ids, vocab), 'a dog a cat');
});

const optionCases: [string, string, Partial<StandardizeOptions>, string[]][] = [
  ['lowercase off keeps case', 'A Dog', { lowercase: false }, ['A', 'Dog']],
  ['stripPunctuation off keeps punctuation', 'dog, runs.', { stripPunctuation: false }, ['dog,', 'runs.']],
  ['dropNumeric drops tokens with digits', 'two 2 dogs x2', { dropNumeric: true }, ['two', 'dogs']],
  ['dropSingleChars drops one-letter tokens', 'a dog and a b cat', { dropSingleChars: true }, ['dog', 'and', 'cat']],
];
for (const [name, input, opts, expected] of optionCases) {
  test(`standardize options: ${name}`, () => assert.deepEqual(standardize(input, { ...DEFAULT_STANDARDIZE, ...opts }), expected));
}

test('lengthPercentile: nearest-rank percentile of caption lengths', () => {
  const caps = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => Array(n).fill('w'));
  assert.equal(lengthPercentile(caps, 50), 5);
  assert.equal(lengthPercentile(caps, 95), 10);
  assert.equal(lengthPercentile(caps, 90), 9);
  assert.equal(lengthPercentile([], 95), 0);
});
