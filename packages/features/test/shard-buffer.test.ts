import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FeatureDtype, FeatureShard } from '@caption/core';
import { ShardBuffer } from '../src/shard-buffer.ts';
import type { ImageRef } from '../src/transform.ts';

type Sunk = { index: number; shard: Omit<FeatureShard, 'metadata'> };
const SHAPE: [number, number] = [2, 3];
const PER = 6;

const ref = (n: number): ImageRef => ({ image_id: `img${n}.jpg`, sha256: `sha${n}`, file: `/x/img${n}.jpg` });
/** Features of image n: n*10 + 0..5, so every value says which image and position it came from. */
const values = (ns: number[], dtype: FeatureDtype) => {
  const arr = ns.flatMap((n) => Array.from({ length: PER }, (_, j) => n * 10 + j));
  return dtype === 'float16' ? Uint16Array.from(arr) : Float32Array.from(arr);
};

function collect(shardSize: number, dtype: FeatureDtype = 'float32') {
  const sunk: Sunk[] = [];
  const buf = new ShardBuffer(shardSize, SHAPE, dtype, async (index, shard) => {
    await new Promise((r) => setImmediate(r)); // a real sink is async
    sunk.push({ index, shard });
  });
  return { buf, sunk };
}

const cases: { name: string; shardSize: number; batches: number[][]; sizes: number[]; dtype?: FeatureDtype }[] = [
  { name: 'batches smaller than a shard', shardSize: 4, batches: [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]], sizes: [4, 4, 2] },
  { name: 'one batch spanning several shards', shardSize: 3, batches: [[0, 1, 2, 3, 4, 5, 6, 7]], sizes: [3, 3, 2] },
  { name: 'exact multiple: no empty final shard', shardSize: 2, batches: [[0, 1, 2], [3]], sizes: [2, 2] },
  { name: 'empty batches are harmless', shardSize: 2, batches: [[], [0], [], [1, 2], []], sizes: [2, 1] },
  { name: 'shard size 1', shardSize: 1, batches: [[0, 1], [2]], sizes: [1, 1, 1] },
  { name: 'float16 bits are kept as Uint16', shardSize: 2, batches: [[0, 1, 2]], sizes: [2, 1], dtype: 'float16' },
  { name: 'nothing added', shardSize: 4, batches: [], sizes: [] },
];

for (const c of cases) {
  test(`ShardBuffer: ${c.name}`, async () => {
    const dtype = c.dtype ?? 'float32';
    const { buf, sunk } = collect(c.shardSize, dtype);
    for (const ns of c.batches) await buf.add(ns.map(ref), values(ns, dtype));
    // full shards were flushed during add; the remainder only on flush()
    const fullBeforeFlush = sunk.length;
    await buf.flush();
    await buf.flush(); // idempotent: nothing more to write
    const all = c.batches.flat();
    assert.equal(fullBeforeFlush, Math.floor(all.length / c.shardSize));
    assert.deepEqual(sunk.map((s) => s.shard.imageIds.length), c.sizes);
    assert.deepEqual(sunk.map((s) => s.index), c.sizes.map((_, i) => i));
    assert.equal(buf.count, all.length);
    assert.equal(buf.shardCount, c.sizes.length);
    // order and ids preserved across shards; each shard's data is exactly its images' rows
    assert.deepEqual(sunk.flatMap((s) => s.shard.imageIds), all.map((n) => ref(n).image_id));
    assert.deepEqual(sunk.flatMap((s) => s.shard.sha256s), all.map((n) => ref(n).sha256));
    for (const { shard } of sunk) {
      assert.deepEqual(shard.shape, SHAPE);
      assert.equal(shard.dtype, dtype);
      assert.ok(dtype === 'float16' ? shard.data instanceof Uint16Array : shard.data instanceof Float32Array);
      const ns = shard.imageIds.map((id) => Number(/\d+/.exec(id)![0]));
      assert.deepEqual(Array.from(shard.data), Array.from(values(ns, dtype)));
    }
  });
}

test('ShardBuffer: a flushed shard does not change when the buffer is reused or the input is overwritten', async () => {
  const { buf, sunk } = collect(2);
  const input = values([0, 1], 'float32');
  await buf.add([ref(0), ref(1)], input);
  input.fill(-1); // the caller reuses its buffer
  await buf.add([ref(2)], values([2], 'float32'));
  await buf.flush();
  assert.deepEqual(Array.from(sunk[0].shard.data), Array.from(values([0, 1], 'float32')));
  assert.deepEqual(sunk[0].shard.imageIds, ['img0.jpg', 'img1.jpg']);
  assert.deepEqual(sunk[1].shard.imageIds, ['img2.jpg']);
});
