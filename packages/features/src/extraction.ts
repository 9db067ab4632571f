/**
 * What one features run extracts with — the backbone on its engine, and the config that identifies its
 * features — and the compute itself: images -> one Arrow shard of their rows. The stage runs it in process;
 * `caption worker` runs the same function for queued shards, so both produce the same bytes.
 */
import { createLogger, toFloat16Bits, type FeatureShard, type Progress } from '@caption/core';
import { initTf } from '@caption/core/tf';
import {
  BACKBONES, decodeImage, extractFeatures, loadBackbone, onnxEngine, tfjsEngine, type Backbone, type FeatureEngine, type ImageRef,
} from '@caption/backbones';
import type { FeaturesParams } from './params.ts';

const log = createLogger('features');

export interface Extractor {
  engine: FeatureEngine;
  backbone: Backbone;
  /** What decides whether stored rows are these features: backbone, cut, weights hash, preprocessing, engine, dtype, shape. */
  config: Record<string, unknown>;
  /** Written into every shard's schema metadata. */
  metadata: Record<string, string>;
}

export type ExtractorParams = Pick<FeaturesParams, 'backbone' | 'weights' | 'cutLayer' | 'engine' | 'dtype'>;

export async function openExtractor(params: ExtractorParams, seed: number, threads?: number): Promise<Extractor> {
  const backend = await initTf();
  const { extractor, weightsHash, weightsNote, backbone } = await loadBackbone(BACKBONES[params.backbone], { weights: params.weights, seed, cutLayer: params.cutLayer });
  const engine: FeatureEngine = params.engine === 'onnx'
    ? await onnxEngine(extractor, backbone, weightsHash, threads)
    : tfjsEngine(extractor, backbone, backend);
  const config = { backbone: backbone.id, cut_layer: backbone.cutLayer, weights_sha256: weightsHash, preprocessing: backbone.preprocessing, engine: engine.name, dtype: params.dtype, shape: backbone.shape };
  const metadata = { backbone: backbone.id, cut_layer: backbone.cutLayer, weights: weightsNote, weights_sha256: weightsHash, preprocessing: backbone.preprocessing, engine: engine.name };
  return { engine, backbone, config, metadata };
}

/** The rows computed for `images` (those that decode), as one shard, and the images that failed. */
export interface ComputedRows {
  shard: FeatureShard;
  failed: { image_id: string; reason: string }[];
}

export async function computeRows(
  images: ImageRef[], x: Extractor, opts: Pick<FeaturesParams, 'batchSize' | 'concurrency' | 'dtype'>, progress?: Pick<Progress, 'tick'>,
): Promise<ComputedRows> {
  const per = x.backbone.shape[0] * x.backbone.shape[1];
  const rows = new Map<string, Uint16Array | Float32Array>();
  const failed: ComputedRows['failed'] = [];
  for await (const batch of extractFeatures(images, x.engine, { ...opts, inputSize: x.backbone.inputSize }, decodeImage)) {
    const stored = opts.dtype === 'float16' ? toFloat16Bits(batch.values) : batch.values;
    batch.images.forEach((img, i) => rows.set(img.sha256, stored.slice(i * per, (i + 1) * per)));
    for (const f of batch.failed) (failed.push({ image_id: f.image.image_id, reason: f.reason }), log.warn(`${f.image.image_id}: ${f.reason}`));
    progress?.tick(batch.images.length + batch.failed.length);
  }
  const kept = images.filter((i) => rows.has(i.sha256));
  const data = opts.dtype === 'float16' ? new Uint16Array(kept.length * per) : new Float32Array(kept.length * per);
  kept.forEach((img, i) => data.set(rows.get(img.sha256)! as never, i * per));
  const shard = { imageIds: kept.map((i) => i.image_id), sha256s: kept.map((i) => i.sha256), shape: x.backbone.shape, dtype: opts.dtype, data, metadata: x.metadata };
  return { shard, failed };
}
