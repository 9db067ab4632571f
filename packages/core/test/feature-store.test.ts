import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineError } from '../src/errors.ts';
import { decodeFeatureShard, encodeFeatureShard, type FeatureShard } from '../src/io/features.ts';
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
  // through the real Arrow encoding (the second shard's 18 values are padded in the IPC body)
  const roundTrip = (s: FeatureShard) => decodeFeatureShard(encodeFeatureShard(s));
  await fn(FeatureStore.fromShards([roundTrip(shard([1, 2, 3], dtype)), roundTrip(shard([4, 5, 6], dtype))]));
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

test('FeatureStore: no shards, or shards that disagree on shape or dtype, throw PipelineError(input)', () => {
  assert.throws(() => FeatureStore.fromShards([]), { name: 'PipelineError', code: 'input' });
  assert.throws(() => FeatureStore.fromShards([shard([1], 'float16'), shard([2], 'float32')]), /disagree/);
});
