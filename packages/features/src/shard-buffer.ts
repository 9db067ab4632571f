/** Collects per-image feature rows and hands out full shards, so at most one shard is held in memory. */
import type { FeatureDtype, FeatureShard } from '@caption/core';
import type { ImageRef } from './transform.ts';

type ShardSink = (index: number, shard: Omit<FeatureShard, 'metadata'>) => Promise<void>;

export class ShardBuffer {
  private ids: string[] = [];
  private shas: string[] = [];
  private chunks: (Uint16Array | Float32Array)[] = [];
  count = 0;
  shardCount = 0;

  constructor(
    private readonly shardSize: number,
    private readonly shape: [number, number],
    private readonly dtype: FeatureDtype,
    private readonly sink: ShardSink,
  ) {}

  async add(images: ImageRef[], data: Uint16Array | Float32Array): Promise<void> {
    const per = this.shape[0] * this.shape[1];
    for (let i = 0; i < images.length; i++) {
      this.ids.push(images[i].image_id);
      this.shas.push(images[i].sha256);
      this.chunks.push(data.subarray(i * per, (i + 1) * per));
      this.count++;
      if (this.ids.length === this.shardSize) await this.flush();
    }
  }

  async flush(): Promise<void> {
    if (!this.ids.length) return;
    const per = this.shape[0] * this.shape[1];
    const data = this.dtype === 'float16' ? new Uint16Array(this.ids.length * per) : new Float32Array(this.ids.length * per);
    this.chunks.forEach((c, i) => data.set(c as never, i * per));
    await this.sink(this.shardCount++, { imageIds: this.ids, sha256s: this.shas, shape: this.shape, dtype: this.dtype, data });
    this.ids = [];
    this.shas = [];
    this.chunks = [];
  }
}
