import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PipelineError } from '../src/errors.ts';
import { writeFeatureShard, type FeatureShard } from '../src/io/features.ts';
import { FeatureStore } from '../src/io/feature-store.ts';
import { toFloat16Bits } from '../src/io/float16.ts';

const L = 2;
const D = 3;
/** Image `id`'s features: id*10 + k/4 (k = 0..L*D-1), all exact in float16. */
const featuresOf = (id: number) => Array.from({ length: L * D }, (_, k) => id * 10 + k / 4);

function shard(ids: number[], dtype: FeatureShard['dtype']): FeatureShard {
  const values = Float32Array.from(ids.flatMap(featuresOf));
  return {
    imageIds: ids.map((i) => `img${i}`),
    sha256s: ids.map((i) => `sha${i}`),
    shape: [L, D],
    dtype,
    data: dtype === 'float16' ? toFloat16Bits(values) : values,
    metadata: { backbone: 'test' },
  };
}

async function withStore(dtype: FeatureShard['dtype'], fn: (store: FeatureStore) => void | Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'core-store-'));
  try {
    fs.mkdirSync(path.join(dir, 'shards'));
    await writeFeatureShard(path.join(dir, 'shards', 'shard-001.arrow'), shard([4, 5, 6], dtype)); // 18 values: padded
    await writeFeatureShard(path.join(dir, 'shards', 'shard-000.arrow'), shard([1, 2, 3], dtype));
    fs.writeFileSync(path.join(dir, 'shards', 'README.txt'), 'not a shard'); // ignored
    fs.writeFileSync(path.join(dir, 'manifest.json'), '{}');
    await fn(await FeatureStore.load(dir));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

for (const dtype of ['float16', 'float32'] as const) {
  test(`FeatureStore (${dtype}): two shards, batch returns float32 rows in the requested order`, async () => {
    await withStore(dtype, (store) => {
      assert.equal(store.dtype, dtype);
      assert.deepEqual(store.shape, [L, D]);
      assert.deepEqual(store.imageIds, ['img1', 'img2', 'img3', 'img4', 'img5', 'img6']); // shards in name order
      assert.ok(store.has('img5'));
      assert.ok(!store.has('img7'));
      const order = [5, 1, 6, 3, 5];
      const batch = store.batch(order.map((i) => `img${i}`));
      assert.ok(batch instanceof Float32Array);
      assert.equal(batch.length, order.length * L * D);
      assert.deepEqual(Array.from(batch), order.flatMap(featuresOf));
      assert.equal(store.batch([]).length, 0);
    });
  });
}

test('FeatureStore: an unknown image id throws PipelineError(input) naming it', async () => {
  await withStore('float16', (store) => {
    assert.throws(() => store.batch(['img1', 'nope-42']), (err: unknown) => {
      assert.ok(err instanceof PipelineError);
      assert.equal(err.code, 'input');
      assert.match(err.message, /nope-42/);
      return true;
    });
  });
});

test('FeatureStore: a shards dir without .arrow files throws PipelineError(input)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'core-store-'));
  try {
    fs.mkdirSync(path.join(dir, 'shards'));
    fs.writeFileSync(path.join(dir, 'shards', 'x.txt'), '');
    await assert.rejects(FeatureStore.load(dir), { name: 'PipelineError', code: 'input' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
