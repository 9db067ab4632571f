import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineError, validateYaml } from '@caption/core';
import { DEFAULT_SPLIT_MAP, FORMATS, ingestParamsSchema, type IngestParams } from '../src/params.ts';
import { ingestParams } from './fixtures.ts';

const resolve = (yaml: string) => validateYaml<IngestParams>(yaml, 'ingest.yaml', ingestParamsSchema);

test('ingest params: an empty block resolves to the documented defaults (the shape the tests use)', () => {
  assert.deepEqual(resolve('{}'), {
    dataset: 'demo', demo: { images: 480, seed: 7 }, format: 'auto', lemmas: false, imageDir: '', splitMap: {},
    splitFractions: { train: 0.8, dev: 0.1, test: 0.1 }, strict: false, concurrency: 8,
  });
  // the test helper builds the same keys (values may differ)
  assert.deepEqual(Object.keys(ingestParams('x')).sort(), Object.keys(resolve('{}')).sort());
});

test('ingest params: formats, split maps and fractions are validated', () => {
  assert.deepEqual([...FORMATS], ['auto', 'flickr8k', 'flickr30k', 'kaggle-csv', 'coco', 'karpathy']);
  const ok = resolve('format: coco\nsplitMap: { val2014: test, restval: none }\nsplitFractions: { train: 0.5 }\n');
  assert.deepEqual([ok.format, ok.splitMap, ok.splitFractions], ['coco', { val2014: 'test', restval: 'none' }, { train: 0.5, dev: 0.1, test: 0.1 }]);
  for (const bad of ['format: flickr', 'splitMap: { val2014: validation }', 'splitFractions: { train: 1.5 }', 'concurrency: 0', 'lemma: true']) {
    assert.throws(() => resolve(bad), (err: unknown) => err instanceof PipelineError && err.code === 'config', bad);
  }
});

test('DEFAULT_SPLIT_MAP: COCO file names and Karpathy split names map to ours (restval is training data)', () => {
  assert.deepEqual(
    ['train', 'restval', 'val', 'test', 'train2014', 'val2014', 'test2014', 'train2017', 'val2017', 'test2017'].map((k) => DEFAULT_SPLIT_MAP[k]),
    ['train', 'train', 'dev', 'test', 'train', 'dev', 'test', 'train', 'dev', 'test'],
  );
});
