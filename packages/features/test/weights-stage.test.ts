/**
 * The features stage with `weights: random` and a `cutLayer` override: the shards and the manifest say
 * what the weights are (`random (seeded, for tests only)`), the cut layer and the shape it gives; the seed
 * comes from the pipeline.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFeatureShard } from '@caption/core';
import { runIngest } from '../../ingest/src/index.ts';
import { runFeatures } from '../src/stage.ts';
import type { FeaturesParams } from '../src/params.ts';
import { demoImages, tempRoot } from '../../backbones/test/helpers/fixtures.ts';

let root: Awaited<ReturnType<typeof tempRoot>>;
const base: FeaturesParams = { backbone: 'efficientnet_b0', weights: 'random', engine: 'onnx', batchSize: 2, shardSize: 4, dtype: 'float32', concurrency: 2, reuse: false };

before(async () => {
  root = await tempRoot('weights-stage-');
  process.env.CAPTION_STORE = path.join(root.dir, 'store'); // this test's own content store, not the checkout's
  await demoImages(path.join(root.dir, 'data'), 3, 4);
  const ingest = { demo: { images: 3, seed: 4 }, format: 'auto', lemmas: false, imageDir: '', splitMap: {}, splitFractions: { train: 0.8, dev: 0.1, test: 0.1 }, strict: false, concurrency: 2 } as const;
  await runIngest({ pipeline: 't', seed: 1, params: { ...ingest, dataset: path.join(root.dir, 'data') } }, path.join(root.dir, 'ingest'));
});
after(async () => root?.cleanup());

const run = (out: string, seed: number, p: Partial<FeaturesParams> = {}) =>
  runFeatures({ pipeline: 't', seed, params: { ...base, ...p } }, path.join(root.dir, 'ingest'), path.join(root.dir, out));

test('features stage, efficientnet_b0 with random weights: metadata says so; the pipeline seed picks the weights', async () => {
  const m = await run('a', 1);
  assert.equal(m.rows.images, 3);
  assert.equal(m.extra?.weights, 'random (seeded, for tests only)');
  assert.equal(m.extra?.cut_layer, 'top_activation');
  assert.deepEqual(m.extra?.shape, [100, 1280]);
  const shard = await readFeatureShard(path.join(root.dir, 'a', 'shards', 'shard-00000.arrow'));
  assert.equal(shard.metadata.weights, 'random (seeded, for tests only)');
  assert.equal(shard.metadata.backbone, 'efficientnet_b0');
  assert.match(shard.metadata.preprocessing, /x\*255/);
  assert.deepEqual(shard.shape, [100, 1280]);

  const again = await run('b', 1);
  assert.equal(again.extra?.weights_sha256, m.extra?.weights_sha256, 'same seed, same weights');
  const other = await run('c', 2);
  assert.notEqual(other.extra?.weights_sha256, m.extra?.weights_sha256, 'another seed, other weights');
});

test('features stage with a cutLayer override: the shards take the shape of that layer', async () => {
  const m = await run('cut', 1, { cutLayer: 'block6a_project_bn', engine: 'tfjs' });
  assert.equal(m.extra?.cut_layer, 'block6a_project_bn');
  assert.deepEqual(m.extra?.shape, [100, 192]);
  const shard = await readFeatureShard(path.join(root.dir, 'cut', 'shards', 'shard-00000.arrow'));
  assert.deepEqual(shard.shape, [100, 192]);
  assert.equal(shard.data.length, 3 * 100 * 192);
});
