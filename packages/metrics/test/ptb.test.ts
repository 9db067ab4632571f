/** The coco-caption-style tokenizer on the cases that distinguish it from a plain split. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ptbTokenize, ptbTokens } from '../src/ptb.ts';

test('ptbTokens: clitics split the Stanford way', () => {
  assert.deepEqual(ptbTokens("The man's dog"), ['the', 'man', "'s", 'dog']);
  assert.deepEqual(ptbTokens("don't"), ['do', "n't"]);
  assert.deepEqual(ptbTokens("Can't won't isn't"), ['ca', "n't", 'wo', "n't", 'is', "n't"]);
  assert.deepEqual(ptbTokens("they're we've I'm he'll she'd"), ['they', "'re", 'we', "'ve", 'i', "'m", 'he', "'ll", 'she', "'d"]);
  assert.deepEqual(ptbTokens('cannot'), ['can', 'not']);
  assert.deepEqual(ptbTokens("the dogs' toys"), ['the', 'dogs', "'", 'toys']);
  assert.deepEqual(ptbTokens('the man\u2019s hat'), ['the', 'man', "'s", 'hat']); // curly apostrophe
  assert.deepEqual(ptbTokens("o'clock"), ["o'clock"]);
});

test('ptbTokens: punctuation, quotes and brackets become their own tokens', () => {
  assert.deepEqual(ptbTokens('A dog runs.'), ['a', 'dog', 'runs', '.']);
  assert.deepEqual(ptbTokens('a dog , running !'), ['a', 'dog', ',', 'running', '!']);
  assert.deepEqual(ptbTokens('wait...what?!'), ['wait', '...', 'what', '?', '!']);
  assert.deepEqual(ptbTokens('a sign says "stop"'), ['a', 'sign', 'says', '"', 'stop', '"']);
  assert.deepEqual(ptbTokens("a 'quoted' word"), ['a', "'", 'quoted', "'", 'word']);
  assert.deepEqual(ptbTokens('a man (in red) [left]'), ['a', 'man', '(', 'in', 'red', ')', '-lsb-', 'left', '-rsb-']);
  assert.deepEqual(ptbTokens('dogs; cats: birds -- fish'), ['dogs', ';', 'cats', ':', 'birds', '--', 'fish']);
});

test('ptbTokens: hyphenated words, numbers, times and acronyms stay whole', () => {
  assert.deepEqual(ptbTokens('a black-and-white dog'), ['a', 'black-and-white', 'dog']);
  assert.deepEqual(ptbTokens('3.5 meters, 1,000 people at 12:30'), ['3.5', 'meters', ',', '1,000', 'people', 'at', '12:30']);
  assert.deepEqual(ptbTokens('2 dogs and 10 cats'), ['2', 'dogs', 'and', '10', 'cats']);
  assert.deepEqual(ptbTokens('in the U.S. today'), ['in', 'the', 'u.s.', 'today']);
  assert.deepEqual(ptbTokens('he is number 5.'), ['he', 'is', 'number', '5', '.']);
  assert.deepEqual(ptbTokens('costs $5 or 10%'), ['costs', '$', '5', 'or', '10', '%']);
});

test('ptbTokenize: coco-caption output (lowercased, punctuation dropped, single spaces)', () => {
  assert.equal(ptbTokenize('  A Dog,   running on the GRASS .  '), 'a dog running on the grass');
  assert.equal(ptbTokenize("The man's dog doesn't bark."), "the man 's dog does n't bark");
  assert.equal(ptbTokenize('A "happy" girl (age 5) - smiling!'), 'a happy girl age 5 smiling');
  assert.equal(ptbTokenize('a black-and-white dog ; 2 cats ...'), 'a black-and-white dog 2 cats');
  assert.equal(ptbTokenize('Two dogs play in the snow\n'), 'two dogs play in the snow');
  assert.equal(ptbTokenize('...'), '');
  assert.equal(ptbTokenize(''), '');
  // idempotent: scoring already-tokenized text changes nothing
  for (const s of ["the man 's dog does n't bark", 'a black-and-white dog 2 cats', 'u.s. 3.5 1,000']) assert.equal(ptbTokenize(s), s);
});
