/**
 * The compute of the features stage: images -> [n, L, D] feature values, batch by batch, with the
 * decoding of batch i+1 (sharp, p-limit) overlapping the inference of batch i.
 */
import pLimit from 'p-limit';
import { PipelineError } from '@caption/core';
import type { FeatureEngine } from './engines.ts';

export interface ImageRef {
  image_id: string;
  sha256: string;
  file: string;
  bytes?: number;    // the file's size (ingest's images table), for copying it into the content store
}

export interface FeatureBatch {
  images: ImageRef[];                       // images whose features are in `values`, in order
  failed: { image: ImageRef; reason: string }[];
  values: Float32Array;                     // [images.length, L, D]
}

export async function* extractFeatures(
  images: ImageRef[],
  engine: FeatureEngine,
  opts: { batchSize: number; concurrency: number; inputSize: number },
  decode: (file: string, size: number, sha256: string) => Promise<Float32Array>,
): AsyncGenerator<FeatureBatch> {
  const limit = pLimit(opts.concurrency);
  const S = opts.inputSize;
  // An image that fails to decode is reported and skipped; a PipelineError (bytes that changed since ingest) stops the run.
  const decodeBatch = (batch: ImageRef[]) => {
    const decoded = Promise.all(batch.map((img) => limit(() => decode(img.file, S, img.sha256).then((px) => ({ img, px }), (e: Error) => {
      if (e instanceof PipelineError) throw e;
      return { img, error: e.message };
    }))));
    decoded.catch(() => {}); // decoded ahead: its error surfaces when awaited, not as an unhandled rejection
    return decoded;
  };

  const batches: ImageRef[][] = [];
  for (let i = 0; i < images.length; i += opts.batchSize) batches.push(images.slice(i, i + opts.batchSize));
  let next = batches.length ? decodeBatch(batches[0]) : undefined;
  for (let b = 0; b < batches.length; b++) {
    const decoded = await next!;
    next = b + 1 < batches.length ? decodeBatch(batches[b + 1]) : undefined;
    const ok = decoded.filter((d): d is { img: ImageRef; px: Float32Array } => 'px' in d);
    const failed = decoded.filter((d): d is { img: ImageRef; error: string } => 'error' in d)
      .map((d) => ({ image: d.img, reason: `decode failed: ${d.error.split('\n')[0]}` }));
    const pixels = new Float32Array(ok.length * S * S * 3);
    ok.forEach((d, i) => pixels.set(d.px, i * S * S * 3));
    const values = ok.length ? await engine.run(pixels, ok.length) : new Float32Array(0);
    yield { images: ok.map((d) => d.img), failed, values };
  }
}
