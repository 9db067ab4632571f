/**
 * features: ingest's images table -> Arrow IPC feature shards `shards/shard-00000.arrow`, ... plus
 * `shards/index.parquet` (image_id, sha256, shard, row). One backbone per run. Shards are planned up front
 * (images in table order); each is committed with its progress record as one unit as soon as it is complete,
 * so an interrupted run resumes from the last complete shard. A shard's rows come from the previous artifact
 * (unchanged images), from the content store (rows computed before, by any clone or worker sharing it), or
 * are computed: here, or by `caption worker`s when CAPTION_QUEUE names a Redis.
 */
import path from 'node:path';
import {
  ArtifactWriter, IMAGE_FORMAT_NAMES, PipelineError, artifactDir, canonicalJson, catalog, createLogger, createProgress, isSupportedFormat, openStage, openStore,
  resolveDatasetRoot, sha256, type ContentStore, type FeatureIndexRow, type ImageRow, type Manifest, type Progress, type ShardProgress, type StageParamsFile,
} from '@caption/core';
import type { ImageRef } from '@caption/backbones';
import { featuresCodeVersion } from './code-version.ts';
import { openExtractor, type ComputedRows, type Extractor } from './extraction.ts';
import { findRows, loadRows, rowsKey, type RowsRecord } from './memo.ts';
import type { FeaturesParams } from './params.ts';
import { queueUrl } from './queue/connection.ts';
import { queuedRows } from './queue/coordinator.ts';
import { openReusable, type Reusable, type StoredRow } from './reuse.ts';
import { localRows, type RowsRequest, type RowsSource } from './rows-source.ts';

const log = createLogger('features');
const shards = catalog.features.shards;
export const FEATURES_SCHEMA_VERSION = 2;

interface Run {
  x: Extractor;
  store: ContentStore;
  reusable?: Reusable;
  counts: { reused: number; stored: number; computed: number };
  progress: Progress;
}

export async function runFeatures(
  p: StageParamsFile<FeaturesParams>,
  ingestDir = artifactDir('ingest'),
  outDir = artifactDir('features'),
): Promise<Manifest> {
  const { params } = p;
  const ingest = await openStage('ingest', ingestDir);
  const { images, unsupported } = imageRefs(await catalog.ingest.images.load(ingest), resolveDatasetRoot(String(ingest.manifest.extra?.datasetRoot), ingest.dir));
  const queue = queueUrl();
  const x = await openExtractor(params, p.seed);
  const run: Run = {
    x, store: openStore(), reusable: params.reuse ? await openReusable(outDir, x.config) : undefined,
    counts: { reused: 0, stored: 0, computed: 0 }, progress: createProgress('[features] extracting', images.length, 'images'),
  };
  // an unreachable Redis fails here, before anything is written
  const source: RowsSource = queue
    ? await queuedRows(queue, { params, seed: p.seed, config: x.config, store: run.store, progress: run.progress })
    : localRows(x, params, run.store, run.progress);
  let result: { writer: ArtifactWriter; planned: number; index: FeatureIndexRow[]; failed: ShardProgress['failed'] };
  try {
    const resumeKey = sha256(canonicalJson({ params, config: x.config, ingest: ingest.manifestHash }));
    result = await extractAll(await ArtifactWriter.open(outDir, { resumeKey }), images, run, source, params, queue);
  } finally {
    await source.close();
    run.progress.stop();
    x.engine.dispose();
  }
  const { writer, planned, index } = result;
  const failed = [...unsupported, ...result.failed];
  for (const u of unsupported) log.warn(`${u.image_id}: ${u.reason}`);
  const { reused, stored, computed } = run.counts;
  log.info(`reused ${reused.toLocaleString('en')}, from the store ${stored.toLocaleString('en')}, computed ${computed.toLocaleString('en')}, failed ${failed.length}`);

  await shards.finish(writer, planned, index, run.store);
  return writer.commit({
    kind: catalog.features.kind,
    schemaVersion: FEATURES_SCHEMA_VERSION,
    stage: 'features',
    createdBy: '@caption/features@0.1.0',
    params,
    upstream: { ingest: ingest.manifestHash },
    rows: { images: index.length, failed: failed.length, shards: planned },
    extra: { ...x.metadata, config: x.config, shape: x.backbone.shape, dtype: params.dtype, failed },
  });
}

/** Every shard committed in the writer's partial dir, in order; the index rows and the failed images. */
async function extractAll(writer: ArtifactWriter, images: ImageRef[], run: Run, source: RowsSource, params: FeaturesParams, queue?: string) {
  log.info(`${run.x.backbone.id} on ${run.x.engine.name}: ${images.length} images -> [${run.x.backbone.shape}] ${params.dtype}` +
    `${writer.resumed ? ' (resuming an interrupted run)' : ''}${queue ? ` (shards as jobs on ${queue})` : ''}`);
  const planned = planShards(images, params.shardSize);
  const committed = await Promise.all(planned.map((_, s) => shards.loadUnit(writer, s)));
  const requests = await pendingRequests(planned, committed, run, params.reuse);
  const index: FeatureIndexRow[] = [];
  const failed: ShardProgress['failed'] = [];
  await source.start([...requests.values()].filter((r) => !r.found));
  for (const [s, shardImages] of planned.entries()) {
    const done = committed[s] ?? await assembleShard(writer, s, shardImages, requests.get(s), run, source, params.dtype);
    if (committed[s]) run.progress.skip(shardImages.length);
    const shaOf = new Map(shardImages.map((i) => [i.image_id, i.sha256]));
    done.images.forEach((id, row) => index.push({ image_id: id, sha256: shaOf.get(id)!, shard: shards.shardName(s), row }));
    failed.push(...done.failed);
  }
  return { writer, planned: planned.length, index, failed };
}

/** Ingest keeps only the supported formats; an images table from elsewhere may not. */
function imageRefs(rows: ImageRow[], root: string) {
  const unsupported = rows.filter((r) => !isSupportedFormat(r.format))
    .map((r) => ({ image_id: r.image_id, reason: `unsupported image format: ${r.format} (supported: ${IMAGE_FORMAT_NAMES})` }));
  const images: ImageRef[] = rows.filter((r) => isSupportedFormat(r.format))
    .map((r) => ({ image_id: r.image_id, sha256: r.sha256, file: path.join(root, r.path), bytes: Number(r.bytes) }));
  return { images, unsupported };
}

const planShards = (images: ImageRef[], size: number) =>
  Array.from({ length: Math.ceil(images.length / size) }, (_, s) => images.slice(s * size, (s + 1) * size));

/** Per uncommitted shard with images to compute: its request, and whether the store already has the rows. */
async function pendingRequests(planned: ImageRef[][], committed: (ShardProgress | undefined)[], run: Run, reuse: boolean) {
  const code = featuresCodeVersion();
  const out = new Map<number, RowsRequest & { found?: RowsRecord }>();
  for (const [s, shardImages] of planned.entries()) {
    const images = shardImages.filter((i) => !run.reusable?.has(i.sha256));
    if (committed[s] || !images.length) continue;
    const key = rowsKey(code, run.x.config, images);
    const record = reuse ? await findRows(run.store, key) : undefined;
    // only whether the store has them: the rows are read when their shard is assembled, one shard in memory at a time
    out.set(s, { shard: s, key, images, found: record && (await run.store.has(record.shard.sha256)) ? record : undefined });
  }
  return out;
}

/** Shard `s`: rows of unchanged images from the previous artifact, the rest from the store or computed; committed as a unit. */
async function assembleShard(
  writer: ArtifactWriter, s: number, planned: ImageRef[], request: (RowsRequest & { found?: RowsRecord }) | undefined,
  run: Run, source: RowsSource, dtype: FeaturesParams['dtype'],
): Promise<ShardProgress> {
  const [L, D] = run.x.backbone.shape;
  const rows: Map<string, StoredRow> = run.reusable ? await run.reusable.take(planned.map((i) => i.sha256)) : new Map();
  run.counts.reused += rows.size;
  run.progress.skip(rows.size);
  let failed: ShardProgress['failed'] = [];
  if (request) {
    const computed = request.found ? await storedRows(run.store, request.found) : await source.rows(request);
    if (request.found) (run.counts.stored += request.images.length, run.progress.skip(request.images.length));
    else run.counts.computed += request.images.length;
    computed.shard.sha256s.forEach((sha, i) => rows.set(sha, computed.shard.data.subarray(i * L * D, (i + 1) * L * D)));
    failed = computed.failed;
  }
  const kept = planned.filter((i) => rows.has(i.sha256));
  const data = dtype === 'float16' ? new Uint16Array(kept.length * L * D) : new Float32Array(kept.length * L * D);
  kept.forEach((img, i) => data.set(rows.get(img.sha256)! as never, i * L * D));
  const done: ShardProgress = { images: kept.map((i) => i.image_id), failed };
  await shards.saveUnit(writer, s, {
    imageIds: done.images, sha256s: kept.map((i) => i.sha256), shape: run.x.backbone.shape, dtype, data, metadata: run.x.metadata,
  }, done);
  return done;
}

async function storedRows(store: ContentStore, record: RowsRecord): Promise<ComputedRows> {
  const rows = await loadRows(store, record);
  if (!rows) throw new PipelineError('input', `rows ${record.shard.sha256} left the store ${store.location} during the run; run again`);
  return rows;
}
