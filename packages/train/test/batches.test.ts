import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '@caption/core';
import { bucketByLength, byLength, groupImages, makeBatches, packBatch, splitGroup, type ImageCaptions } from '../src/batches.ts';

const ids = (...xs: number[]) => Int32Array.from(xs);
const img = (imageId: string, ...captions: number[][]): ImageCaptions => ({ imageId, captions: captions.map((c) => ids(...c)) });

test('packBatch: inputs drop the last token, targets drop <start>, both right-padded with 0', () => {
  const b = packBatch([
    img('x', [2, 5, 6, 3], [2, 7, 3]),
    img('y', [2, 8, 9, 10, 3]),
  ]);
  assert.deepEqual(b.imageIds, ['x', 'y']);
  assert.equal(b.B, 3);
  assert.equal(b.T, 4); // longest caption 5 tokens -> 4 steps
  assert.deepEqual(Array.from(b.imageIndex), [0, 0, 1]);
  assert.deepEqual(Array.from(b.inputs), [
    2, 5, 6, 0,
    2, 7, 0, 0,
    2, 8, 9, 10,
  ]);
  assert.deepEqual(Array.from(b.targets), [
    5, 6, 3, 0,
    7, 3, 0, 0,
    8, 9, 10, 3,
  ]);
  // shifted by one: targets[t] == inputs[t+1] wherever both are real tokens
  for (let r = 0; r < b.B; r++) {
    for (let t = 0; t + 1 < b.T; t++) {
      if (b.inputs[r * b.T + t + 1] !== 0) assert.equal(b.targets[r * b.T + t], b.inputs[r * b.T + t + 1]);
    }
  }
});

test('packBatch: equal lengths need no padding', () => {
  const b = packBatch([img('a', [2, 4, 3], [2, 5, 3])]);
  assert.deepEqual([b.B, b.T], [2, 2]);
  assert.deepEqual(Array.from(b.inputs), [2, 4, 2, 5]);
  assert.deepEqual(Array.from(b.targets), [4, 3, 5, 3]);
  assert.ok(!b.targets.includes(0));
});

const four = (id: string, n: number) => img(id, ...Array.from({ length: n }, (_, i) => [2, 10 + i, 3]));

const batchCases: { name: string; images: ImageCaptions[]; batchSize: number; groups: string[][] }[] = [
  { name: 'fills batches with whole images', images: [four('a', 2), four('b', 2), four('c', 2), four('d', 2)], batchSize: 4, groups: [['a', 'b'], ['c', 'd']] },
  { name: 'an image that overflows the batch stays whole (batch grows)', images: [four('a', 3), four('b', 3), four('c', 3)], batchSize: 4, groups: [['a', 'b'], ['c']] },
  { name: 'last partial batch is kept', images: [four('a', 5), four('b', 1)], batchSize: 5, groups: [['a'], ['b']] },
  { name: 'batch size 1: one image per batch', images: [four('a', 2), four('b', 1)], batchSize: 1, groups: [['a'], ['b']] },
  { name: 'everything in one batch', images: [four('a', 1), four('b', 1)], batchSize: 100, groups: [['a', 'b']] },
  { name: 'no images', images: [], batchSize: 4, groups: [] },
];

for (const c of batchCases) {
  test(`makeBatches: ${c.name}`, () => {
    const batches = makeBatches(c.images, c.batchSize);
    assert.deepEqual(batches.map((b) => b.imageIds), c.groups);
    // every caption exactly once, in order, each pointing at its own image
    const seen: string[] = [];
    for (const b of batches) {
      for (let r = 0; r < b.B; r++) seen.push(`${b.imageIds[b.imageIndex[r]]}:${b.targets[r * b.T]}`);
    }
    const expected = c.images.flatMap((im) => im.captions.map((cap) => `${im.imageId}:${cap[1]}`));
    assert.deepEqual(seen, expected);
    for (const b of batches.slice(0, -1)) assert.ok(b.B >= c.batchSize, `non-final batch of ${b.B} < ${c.batchSize}`);
  });
}

test('splitGroup: consecutive runs of about equal caption counts, never empty, all images once', () => {
  const group = [img('a', [2, 3], [2, 3]), img('b', [2, 3]), img('c', [2, 3], [2, 3], [2, 3]), img('d', [2, 3], [2, 3])];
  const names = (parts: ImageCaptions[][]) => parts.map((p) => p.map((i) => i.imageId).join(''));
  assert.deepEqual(names(splitGroup(group, 1)), ['abcd']);
  assert.deepEqual(names(splitGroup(group, 2)), ['ab', 'cd']);   // 3 + 5 captions: the cut nearest 4
  assert.deepEqual(names(splitGroup(group, 4)), ['a', 'b', 'c', 'd']);
  assert.deepEqual(names(splitGroup(group.slice(0, 2), 4)), ['a', 'b']); // fewer images than parts
  assert.deepEqual(groupImages(group, 4).flatMap((g) => splitGroup(g, 2)).flat(), group);
});

test('bucketByLength: every image once; batches of like lengths pad less than plain batches; seeded', () => {
  const rng = new Rng(7);
  const images = Array.from({ length: 60 }, (_, i) => img(`i${i}`, ...Array.from({ length: 2 }, () => Array.from({ length: 3 + rng.int(15) }, () => 4))));
  const padded = (groups: ImageCaptions[][]) => groups.map(packBatch).reduce((a, b) => a + b.B * b.T, 0);
  const plain = groupImages(images, 8);
  const bucketed = bucketByLength(images, 8, 5, new Rng(1));
  assert.deepEqual(bucketed.flat().map((i) => i.imageId).sort(), images.map((i) => i.imageId).sort());
  assert.equal(bucketed.length, plain.length);
  assert.ok(padded(bucketed) < 0.9 * padded(plain), `${padded(bucketed)} vs ${padded(plain)} padded steps`);
  assert.deepEqual(bucketByLength(images, 8, 5, new Rng(1)), bucketed);
  assert.notDeepEqual(bucketByLength(images, 8, 5, new Rng(2)), bucketed); // batch order is shuffled
  const lengths = byLength(images).map((i) => Math.max(...i.captions.map((c) => c.length)));
  assert.deepEqual(lengths, [...lengths].sort((a, b) => a - b));
});
