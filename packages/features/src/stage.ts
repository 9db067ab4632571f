/**
 * features: ingest's images table -> Arrow IPC feature shards `shards/shard-00000.arrow`, ... plus
 * `shards/index.parquet` (image_id, sha256, shard, row). One backbone per run. Shards are planned up front
 * (images in table order); each is committed with its progress record as one unit as soon as it is complete,
 * so an interrupted run resumes from the last complete shard, and rows of unchanged images are copied from
 * the previous artifact.
 */
import path from 'node:path';
import {
  ArtifactWriter, IMAGE_FORMAT_NAMES, artifactDir, canonicalJson, catalog, createLogger, createProgress, isSupportedFormat, openStage,
  resolveDatasetRoot, sha256, toFloat16Bits,
  type FeatureIndexRow, type Manifest, type Progress, type ShardProgress, type StageParamsFile,
} from '@caption/core';
import { initTf } from '@caption/core/tf';
import {
  BACKBONES, decodeImage, extractFeatures, loadBackbone, onnxEngine, tfjsEngine, type Backbone, type FeatureEngine, type ImageRef,
} from '@caption/backbones';
import type { FeaturesParams } from './params.ts';
import { openReusable, type Reusable, type StoredRow } from './reuse.ts';

const log = createLogger('features');
const shards = catalog.features.shards;
export const FEATURES_SCHEMA_VERSION = 2;

/** What one run extracts with: the engine, and the config that decides whether old rows can be reused. */
interface Extraction {
  engine: FeatureEngine;
  backbone: Backbone;
  config: Record<string, unknown>;
  metadata: Record<string, string>;
  reusable?: Reusable;
  counts: { reused: number; computed: number };
  progress: Progress;
}

export async function runFeatures(
  p: StageParamsFile<FeaturesParams>,
  ingestDir = artifactDir('ingest'),
  outDir = artifactDir('features'),
): Promise<Manifest> {
  const { params } = p;
  const ingest = await openStage('ingest', ingestDir);
  const root = resolveDatasetRoot(String(ingest.manifest.extra?.datasetRoot), ingest.dir);
  const rows = await catalog.ingest.images.load(ingest);
  // ingest keeps only the supported formats; an images table from elsewhere may not
  const unsupported = rows.filter((r) => !isSupportedFormat(r.format))
    .map((r) => ({ image_id: r.image_id, reason: `unsupported image format: ${r.format} (supported: ${IMAGE_FORMAT_NAMES})` }));
  const images: ImageRef[] = rows.filter((r) => isSupportedFormat(r.format))
    .map((r) => ({ image_id: r.image_id, sha256: r.sha256, file: path.join(root, r.path) }));

  const run = await openExtraction(p, outDir, images.length);
  const writer = await ArtifactWriter.open(outDir, {
    resumeKey: sha256(canonicalJson({ params, config: run.config, ingest: ingest.manifestHash })),
  });
  log.info(`${run.backbone.id} on ${run.engine.name}: ${images.length} images -> [${run.backbone.shape}] ${params.dtype}` +
    `${writer.resumed ? ' (resuming an interrupted run)' : ''}`);

  const index: FeatureIndexRow[] = [];
  const failed: ShardProgress['failed'] = [...unsupported];
  for (const u of unsupported) log.warn(`${u.image_id}: ${u.reason}`);
  const planned = planShards(images, params.shardSize);
  for (const [s, shardImages] of planned.entries()) {
    let done = await shards.loadUnit(writer, s); // committed by an interrupted run
    if (done) run.progress.skip(shardImages.length);
    else done = await extractShard(writer, s, shardImages, run, params);
    const shaOf = new Map(shardImages.map((i) => [i.image_id, i.sha256]));
    done.images.forEach((id, row) => index.push({ image_id: id, sha256: shaOf.get(id)!, shard: shards.shardName(s), row }));
    failed.push(...done.failed);
  }
  run.progress.stop();
  run.engine.dispose();
  log.info(`reused ${run.counts.reused.toLocaleString('en')}, computed ${run.counts.computed.toLocaleString('en')}, failed ${failed.length}`);

  await shards.finish(writer, planned.length, index);
  return writer.commit({
    kind: catalog.features.kind,
    schemaVersion: FEATURES_SCHEMA_VERSION,
    stage: 'features',
    createdBy: '@caption/features@0.1.0',
    params,
    upstream: { ingest: ingest.manifestHash },
    rows: { images: index.length, failed: failed.length, shards: planned.length },
    extra: { ...run.metadata, config: run.config, shape: run.backbone.shape, dtype: params.dtype, failed },
  });
}

/** The backbone on its engine, the config identifying its features, and the previous artifact's reusable rows. */
async function openExtraction(p: StageParamsFile<FeaturesParams>, outDir: string, images: number): Promise<Extraction> {
  const { params } = p;
  const backend = await initTf();
  const { extractor, weightsHash, weightsNote, backbone } = await loadBackbone(BACKBONES[params.backbone], { weights: params.weights, seed: p.seed, cutLayer: params.cutLayer });
  const engine: FeatureEngine = params.engine === 'onnx'
    ? await onnxEngine(extractor, backbone, weightsHash)
    : tfjsEngine(extractor, backbone, backend);
  const config = { backbone: backbone.id, cut_layer: backbone.cutLayer, weights_sha256: weightsHash, preprocessing: backbone.preprocessing, engine: engine.name, dtype: params.dtype, shape: backbone.shape };
  const metadata = { backbone: backbone.id, cut_layer: backbone.cutLayer, weights: weightsNote, weights_sha256: weightsHash, preprocessing: backbone.preprocessing, engine: engine.name };
  const reusable = params.reuse ? await openReusable(outDir, config) : undefined;
  return { engine, backbone, config, metadata, reusable, counts: { reused: 0, computed: 0 }, progress: createProgress('[features] extracting', images, 'images') };
}

const planShards = (images: ImageRef[], size: number) =>
  Array.from({ length: Math.ceil(images.length / size) }, (_, s) => images.slice(s * size, (s + 1) * size));

/** Shard `s`: rows of unchanged images copied from the previous artifact, the rest computed; committed as a unit. */
async function extractShard(writer: ArtifactWriter, s: number, planned: ImageRef[], run: Extraction, params: FeaturesParams): Promise<ShardProgress> {
  const per = run.backbone.shape[0] * run.backbone.shape[1];
  const rows: Map<string, StoredRow> = run.reusable ? await run.reusable.take(planned.map((i) => i.sha256)) : new Map();
  const todo = planned.filter((i) => !rows.has(i.sha256));
  run.counts.reused += planned.length - todo.length;
  run.progress.skip(planned.length - todo.length);
  const done: ShardProgress = { images: [], failed: [] };
  for await (const batch of extractFeatures(todo, run.engine, { ...params, inputSize: run.backbone.inputSize }, decodeImage)) {
    const stored = params.dtype === 'float16' ? toFloat16Bits(batch.values) : batch.values;
    batch.images.forEach((img, i) => rows.set(img.sha256, stored.slice(i * per, (i + 1) * per)));
    for (const f of batch.failed) (done.failed.push({ image_id: f.image.image_id, reason: f.reason }), log.warn(`${f.image.image_id}: ${f.reason}`));
    run.counts.computed += batch.images.length;
    run.progress.tick(batch.images.length + batch.failed.length);
  }
  const kept = planned.filter((i) => rows.has(i.sha256));
  done.images = kept.map((i) => i.image_id);
  const data = params.dtype === 'float16' ? new Uint16Array(kept.length * per) : new Float32Array(kept.length * per);
  kept.forEach((img, i) => data.set(rows.get(img.sha256)! as never, i * per));
  await shards.saveUnit(writer, s, {
    imageIds: done.images, sha256s: kept.map((i) => i.sha256), shape: run.backbone.shape, dtype: params.dtype, data, metadata: run.metadata,
  }, done);
  return done;
}
