import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerTally } from '../src/queue/tally.ts';

test('WorkerTally: progress counts each image once (a retried job restarts at 0), rates per worker, closing lines', () => {
  let t = 0;
  const tally = new WorkerTally(() => t);
  assert.equal(tally.progress('r-0', { done: 4, total: 8, worker: 'a:1' }), 4);
  t = 2000;
  assert.equal(tally.progress('r-0', { done: 8, total: 8, worker: 'a:1' }), 4);
  assert.equal(tally.progress('r-1', { done: 2, total: 8, worker: 'b:2' }), 2);
  // r-1's worker died; the retry on a:1 reports from 0 again: nothing until it passes what was counted
  assert.equal(tally.progress('r-1', { done: 1, total: 8, worker: 'a:1' }), 0);
  assert.equal(tally.progress('r-1', { done: 5, total: 8, worker: 'a:1' }), 3);
  t = 4000;
  assert.equal(tally.rates(), 'a:1 2.8/s, b:2 1.0/s');
  tally.finished({ worker: 'a:1', seconds: 2, images: 7, failed: [{ image_id: 'x', reason: 'decode failed' }], shard: { sha256: 'f'.repeat(64), bytes: 1 } });
  tally.finished({ worker: 'a:1', seconds: 2, images: 8, failed: [], shard: { sha256: 'e'.repeat(64), bytes: 1 } });
  assert.deepEqual(tally.summary(), ['worker a:1: 2 shard(s), 16 images in 4.0 s (4.0 images/s)']);
});
