/**
 * The compute of the features stage: batches of decoded pixels -> [n, L, D] feature values.
 * Decoding of batch i+1 overlaps inference of batch i.
 */
import pLimit from 'p-limit';
import { toFloat16Bits, type FeatureDtype } from '@caption/core';
import { tf } from '@caption/core/tf';
import type { Backbone } from './backbones.ts';

export interface ImageRef {
  image_id: string;
  sha256: string;
  file: string;
}

export interface FeatureBatch {
  images: ImageRef[];           // images whose features are in `data`, in order
  failed: { image: ImageRef; reason: string }[];
  data: Uint16Array | Float32Array; // [images.length, L, D]
}

export async function* extractFeatures(
  images: ImageRef[],
  extractor: tf.LayersModel,
  backbone: Backbone,
  opts: { batchSize: number; concurrency: number; dtype: FeatureDtype },
  decode: (file: string, size: number) => Promise<Float32Array>,
): AsyncGenerator<FeatureBatch> {
  const limit = pLimit(opts.concurrency);
  const S = backbone.inputSize;
  const decodeBatch = (batch: ImageRef[]) =>
    Promise.all(batch.map((img) => limit(() => decode(img.file, S).then((px) => ({ img, px }), (e: Error) => ({ img, error: e.message })))));

  const batches: ImageRef[][] = [];
  for (let i = 0; i < images.length; i += opts.batchSize) batches.push(images.slice(i, i + opts.batchSize));
  let next = batches.length ? decodeBatch(batches[0]) : undefined;
  for (let b = 0; b < batches.length; b++) {
    const decoded = await next!;
    next = b + 1 < batches.length ? decodeBatch(batches[b + 1]) : undefined;
    const ok = decoded.filter((d): d is { img: ImageRef; px: Float32Array } => 'px' in d);
    const failed = decoded.filter((d): d is { img: ImageRef; error: string } => 'error' in d)
      .map((d) => ({ image: d.img, reason: `decode failed: ${d.error.split('\n')[0]}` }));
    const values = ok.length ? await infer(ok.map((d) => d.px), extractor, S) : new Float32Array(0);
    yield { images: ok.map((d) => d.img), failed, data: opts.dtype === 'float16' ? toFloat16Bits(values) : values };
  }
}

async function infer(pixels: Float32Array[], extractor: tf.LayersModel, S: number): Promise<Float32Array> {
  const batch = new Float32Array(pixels.length * S * S * 3);
  pixels.forEach((px, i) => batch.set(px, i * S * S * 3));
  const out = tf.tidy(() => extractor.predict(tf.tensor4d(batch, [pixels.length, S, S, 3])) as tf.Tensor);
  const values = (await out.data()) as Float32Array; // [B, h, w, D] row-major == [B, L, D]
  out.dispose();
  return values;
}
