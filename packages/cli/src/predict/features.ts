/**
 * Features of the given images, computed in memory with the features stage's own decode + extract code and
 * rounded to the stored dtype (float16 like the shards), so a caption here is the one evaluate would give.
 */
import { fromFloat16Bits, toFloat16Bits } from '@caption/core';
import type { RebuiltBackbone } from './backbone.ts';
import { decodeImage, extractFeatures, type ImageRef } from '@caption/backbones';

/** What the decoders read features from (`FeatureSource` of @caption/evaluate): [ids.length, L, D] row-major. */
export interface InMemoryFeatures {
  shape: [number, number];
  batch(ids: readonly string[]): Float32Array;
}

export async function computeFeatures(
  images: { id: string; file: string; sha256: string }[],
  { backbone, engine, dtype }: RebuiltBackbone,
  opts = { batchSize: 16, concurrency: 4 },
): Promise<{ features: InMemoryFeatures; failed: { id: string; reason: string }[] }> {
  const per = backbone.shape[0] * backbone.shape[1];
  const rows = new Map<string, Float32Array>();
  const failed: { id: string; reason: string }[] = [];
  const refs: ImageRef[] = images.map((i) => ({ image_id: i.id, sha256: i.sha256, file: i.file }));
  for await (const batch of extractFeatures(refs, engine, { ...opts, inputSize: backbone.inputSize }, decodeImage)) {
    const values = dtype === 'float16' ? fromFloat16Bits(toFloat16Bits(batch.values)) : batch.values;
    batch.images.forEach((img, i) => rows.set(img.image_id, values.slice(i * per, (i + 1) * per)));
    failed.push(...batch.failed.map((f) => ({ id: f.image.image_id, reason: f.reason })));
  }
  return {
    failed,
    features: {
      shape: backbone.shape,
      batch(ids) {
        const out = new Float32Array(ids.length * per);
        ids.forEach((id, i) => out.set(rows.get(id)!, i * per));
        return out;
      },
    },
  };
}
