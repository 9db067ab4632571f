/** A feature artifact on disk for decoder tests: the real FeatureStore path that the evaluate stage reads. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FeatureStore, encodeFeatureShard } from '@caption/core';

/** One float32 shard with `ids`, each [L, D]; `value(k, i)` is element i of image k. */
export async function tempFeatureStore(ids: string[], shape: [number, number], value: (k: number, i: number) => number) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'eval-features-'));
  await mkdir(path.join(dir, 'shards'));
  const per = shape[0] * shape[1];
  await writeFile(path.join(dir, 'shards', 'shard-00000.arrow'), encodeFeatureShard({
    imageIds: ids, sha256s: ids.map(() => '0'.repeat(64)), shape, dtype: 'float32',
    data: Float32Array.from({ length: ids.length * per }, (_, j) => value(Math.floor(j / per), j % per)), metadata: {},
  }));
  return { store: await FeatureStore.load(dir), remove: () => rm(dir, { recursive: true, force: true }) };
}
