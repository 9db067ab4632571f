import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TokenizeParams } from '../src/params.ts';
import { resolveMaxLength, tokenizeCaptions, type CaptionInput } from '../src/transform.ts';
import { DEFAULT_STANDARDIZE, tokenIndex } from '../src/vocabulary.ts';
import { END, START, UNK, decodeIds } from '@caption/core';

const P = (p: Partial<TokenizeParams>): TokenizeParams => ({ vocabSize: 100, minCount: 1, maxLength: 24, ...DEFAULT_STANDARDIZE, ...p });

const row = (image_id: string, caption_index: number, caption: string, split: string): CaptionInput => ({ image_id, caption_index, caption, split });

const captions: CaptionInput[] = [
  row('a.jpg', 0, 'A red circle.', 'train'),
  row('a.jpg', 1, 'A RED circle on grass', 'train'),
  row('b.jpg', 0, 'A blue square', 'train'),
  row('c.jpg', 0, 'A giraffe circle', 'dev'),      // giraffe: dev only
  row('d.jpg', 0, 'a very very long red circle on the grass today', 'test'),
  row('e.jpg', 0, 'An unspoken square', 'none'),
];

test('tokenizeCaptions: vocabulary from the train split only; other splits map unseen words to <unk>', () => {
  const { vocabulary, tokens } = tokenizeCaptions(captions, P({ vocabSize: 100, minCount: 1, maxLength: 8 }));
  // train words: a x3, circle 2, red 2, blue 1, grass 1, on 1, square 1
  assert.deepEqual(vocabulary.tokens.slice(4), ['a', 'circle', 'red', 'blue', 'grass', 'on', 'square']);
  assert.deepEqual(vocabulary.counts.slice(4), [3, 2, 2, 1, 1, 1, 1]);
  assert.ok(!vocabulary.tokens.includes('giraffe'));
  const idx = tokenIndex(vocabulary);
  const dev = tokens.find((t) => t.image_id === 'c.jpg')!;
  assert.deepEqual(Array.from(dev.token_ids), [START, idx.get('a'), UNK, idx.get('circle'), END]);
  assert.equal(decodeIds(dev.token_ids, vocabulary), 'a <unk> circle');
});

test('tokenizeCaptions: one token row per caption, in input order, with ids/splits carried over', () => {
  const { tokens } = tokenizeCaptions(captions, P({ vocabSize: 100, minCount: 1, maxLength: 8 }));
  assert.deepEqual(tokens.map((t) => [t.image_id, t.caption_index, t.split]), captions.map((c) => [c.image_id, c.caption_index, c.split]));
  for (const t of tokens) {
    assert.ok(t.token_ids instanceof Int32Array);
    assert.equal(t.token_ids[0], START);
    assert.equal(t.token_ids.at(-1), END);
    assert.ok(t.token_ids.length <= 8);
  }
});

test('tokenizeCaptions: counts (captions, vocabulary, truncated, unknown tokens)', () => {
  const r = tokenizeCaptions(captions, P({ vocabSize: 100, minCount: 1, maxLength: 8 }));
  // truncated: d.jpg has 10 words > 6. unknown: giraffe (c), very very long (d, within first 6 words), an unspoken (e)
  assert.deepEqual(r.counts, { captions: 6, vocabulary: 11, max_length: 8, truncated: 1, unknown_tokens: 6 });
  const d = r.tokens.find((t) => t.image_id === 'd.jpg')!;
  assert.equal(decodeIds(d.token_ids, r.vocabulary), 'a <unk> <unk> <unk> red circle');

  // a tighter vocabulary: top-2 and minCount 2 -> only 'a' and 'circle'/'red' compete; size cut keeps a, circle
  const small = tokenizeCaptions(captions, P({ vocabSize: 2, minCount: 2, maxLength: 24 }));
  assert.deepEqual(small.vocabulary.tokens.slice(4), ['a', 'circle']);
  assert.equal(small.counts.truncated, 0);
  assert.equal(small.counts.vocabulary, 6);
  assert.equal(decodeIds(small.tokens[1].token_ids, small.vocabulary), 'a <unk> circle <unk> <unk>');
});

test('tokenizeCaptions: empty input', () => {
  const r = tokenizeCaptions([], P({ vocabSize: 10, minCount: 1, maxLength: 5 }));
  assert.deepEqual(r.tokens, []);
  assert.deepEqual(r.counts, { captions: 0, vocabulary: 4, max_length: 5, truncated: 0, unknown_tokens: 0 });
});

test('resolveMaxLength: an integer as is; pNN = percentile of train lengths + <start>/<end>', () => {
  const train = [3, 4, 5, 6, 20].map((n) => Array(n).fill('w'));
  assert.equal(resolveMaxLength(12, train), 12);
  assert.equal(resolveMaxLength('p80', train), 8);
  assert.equal(resolveMaxLength('p100', train), 22);
  assert.equal(resolveMaxLength('p50', []), 3);
});
