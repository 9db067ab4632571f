/** Features for decoder tests: one float32 shard through the real Arrow encoding, as the evaluate stage loads it. */
import { FeatureStore, decodeFeatureShard, encodeFeatureShard } from '@caption/core';

/** One float32 shard with `ids`, each [L, D]; `value(k, i)` is element i of image k. */
export async function tempFeatureStore(ids: string[], shape: [number, number], value: (k: number, i: number) => number) {
  const per = shape[0] * shape[1];
  const bytes = encodeFeatureShard({
    imageIds: ids, sha256s: ids.map(() => '0'.repeat(64)), shape, dtype: 'float32',
    data: Float32Array.from({ length: ids.length * per }, (_, j) => value(Math.floor(j / per), j % per)), metadata: {},
  });
  return { store: FeatureStore.fromShards([decodeFeatureShard(bytes)]), remove: async () => {} };
}
