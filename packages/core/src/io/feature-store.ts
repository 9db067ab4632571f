/**
 * All shards of a features artifact, held as stored (float16 stays 2 bytes a value) and decoded to
 * float32 only for the images of one batch. Loaded (and verified) by the catalog's feature shards dataset.
 */
import { PipelineError } from '../errors.ts';
import type { FeatureDtype, FeatureShard } from './features.ts';
import { fromFloat16Bits } from './float16.ts';

export class FeatureStore {
  private constructor(
    readonly shape: [number, number],
    readonly dtype: FeatureDtype,
    private readonly rowOf: Map<string, { shard: number; row: number }>,
    private readonly shards: (Uint16Array | Float32Array)[],
  ) {}

  static fromShards(shards: readonly FeatureShard[]): FeatureStore {
    if (!shards.length) throw new PipelineError('input', 'no feature shards');
    const { shape, dtype } = shards[0];
    const rowOf = new Map<string, { shard: number; row: number }>();
    shards.forEach((s, i) => {
      if (s.dtype !== dtype || s.shape.join() !== shape.join()) {
        throw new PipelineError('input', `feature shards disagree: [${s.shape}] ${s.dtype} after [${shape}] ${dtype}`);
      }
      s.imageIds.forEach((id, row) => rowOf.set(id, { shard: i, row }));
    });
    return new FeatureStore(shape, dtype, rowOf, shards.map((s) => s.data));
  }

  has(imageId: string): boolean {
    return this.rowOf.has(imageId);
  }

  get imageIds(): string[] {
    return [...this.rowOf.keys()];
  }

  /** float32 [ids.length, L, D], row-major. */
  batch(ids: readonly string[]): Float32Array {
    const per = this.shape[0] * this.shape[1];
    const out = new Float32Array(ids.length * per);
    ids.forEach((id, i) => {
      const at = this.rowOf.get(id);
      if (!at) throw new PipelineError('input', `no features for image ${id}`);
      const src = this.shards[at.shard].subarray(at.row * per, (at.row + 1) * per);
      if (this.dtype === 'float16') fromFloat16Bits(src as Uint16Array, out.subarray(i * per, (i + 1) * per));
      else out.set(src as Float32Array, i * per);
    });
    return out;
  }
}
