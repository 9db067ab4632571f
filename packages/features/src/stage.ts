/**
 * features: ingest's images table -> Arrow IPC feature shards `shards/shard-00000.arrow`, ... plus
 * `shards/index.parquet` (image_id, sha256, shard, row). One backbone per run. Shards are planned up front
 * (images in table order), each written atomically as soon as it is complete; an interrupted run resumes
 * from the last complete shard, and rows of unchanged images are copied from the previous artifact.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ArtifactWriter, artifactDir, canonicalJson, createLogger, createProgress, encodeFeatureShard, encodeParquet,
  int32, makeTable, openArtifact, ParquetDataset, resolveDatasetRoot, sha256, tableRows, toFloat16Bits, utf8,
  type Manifest, type StageParamsFile,
} from '@caption/core';
import { initTf } from '@caption/core/tf';
import { BACKBONES } from './backbones.ts';
import { decodeImage } from './decode.ts';
import { onnxEngine, tfjsEngine, type FeatureEngine } from './engines.ts';
import { loadBackbone } from './model.ts';
import type { FeaturesParams } from './params.ts';
import { openReusable, type StoredRow } from './reuse.ts';
import { extractFeatures, type ImageRef } from './transform.ts';

const log = createLogger('features');
export const FEATURES_SCHEMA_VERSION = 2;

interface ShardProgress { images: string[]; failed: { image_id: string; reason: string }[] }

export async function runFeatures(
  p: StageParamsFile<FeaturesParams>,
  ingestDir = artifactDir('ingest'),
  outDir = artifactDir('features'),
): Promise<Manifest> {
  const { params } = p;
  const ingest = await openArtifact(ingestDir, 'captions');
  const root = resolveDatasetRoot(String(ingest.manifest.extra?.datasetRoot), ingest.dir);
  const images: ImageRef[] = tableRows<{ image_id: string; path: string; sha256: string }>(
    await new ParquetDataset(ingest.file('images.parquet')).load(),
  ).map((r) => ({ image_id: r.image_id, sha256: r.sha256, file: path.join(root, r.path) }));

  const backend = await initTf();
  const { extractor, weightsHash, weightsNote, backbone } = await loadBackbone(BACKBONES[params.backbone], { weights: params.weights, seed: p.seed, cutLayer: params.cutLayer });
  const engine: FeatureEngine = params.engine === 'onnx'
    ? await onnxEngine(extractor, backbone, weightsHash)
    : tfjsEngine(extractor, backbone, backend);
  const config = { backbone: backbone.id, cut_layer: backbone.cutLayer, weights_sha256: weightsHash, preprocessing: backbone.preprocessing, engine: engine.name, dtype: params.dtype, shape: backbone.shape };
  const metadata = { backbone: backbone.id, cut_layer: backbone.cutLayer, weights: weightsNote, weights_sha256: weightsHash, preprocessing: backbone.preprocessing, engine: engine.name };
  const reusable = params.reuse ? await openReusable(outDir, config) : undefined;
  const writer = await ArtifactWriter.open(outDir, {
    resumeKey: sha256(canonicalJson({ params, config, ingest: ingest.manifestHash })),
  });
  log.info(`${backbone.id} on ${engine.name}: ${images.length} images -> [${backbone.shape}] ${params.dtype}` +
    `${writer.resumed ? ' (resuming an interrupted run)' : ''}`);

  const per = backbone.shape[0] * backbone.shape[1];
  const index: { image_id: string; sha256: string; shard: string; row: number }[] = [];
  const failed: ShardProgress['failed'] = [];
  let reused = 0;
  let computed = 0;
  const progress = createProgress('[features] extracting', images.length, 'images');
  for (let s = 0; s * params.shardSize < images.length; s++) {
    const shard = `shard-${String(s).padStart(5, '0')}.arrow`;
    const planned = images.slice(s * params.shardSize, (s + 1) * params.shardSize);
    let done: ShardProgress;
    if (writer.has(`shards/${shard}`) && writer.has(`.progress/${s}.json`)) {
      done = JSON.parse(await readFile(writer.path(`.progress/${s}.json`), 'utf8'));
    } else {
      // Copy what the previous artifact already has, compute the rest.
      const rows: Map<string, StoredRow> = reusable ? await reusable.take(planned.map((i) => i.sha256)) : new Map();
      const todo = planned.filter((i) => !rows.has(i.sha256));
      reused += planned.length - todo.length;
      progress.skip(planned.length - todo.length);
      done = { images: [], failed: [] };
      for await (const batch of extractFeatures(todo, engine, { ...params, inputSize: backbone.inputSize }, decodeImage)) {
        const stored = params.dtype === 'float16' ? toFloat16Bits(batch.values) : batch.values;
        batch.images.forEach((img, i) => rows.set(img.sha256, stored.slice(i * per, (i + 1) * per)));
        for (const f of batch.failed) (done.failed.push({ image_id: f.image.image_id, reason: f.reason }), log.warn(`${f.image.image_id}: ${f.reason}`));
        computed += batch.images.length;
        progress.tick(batch.images.length + batch.failed.length);
      }
      const kept = planned.filter((i) => rows.has(i.sha256));
      done.images = kept.map((i) => i.image_id);
      const data = params.dtype === 'float16' ? new Uint16Array(kept.length * per) : new Float32Array(kept.length * per);
      kept.forEach((img, i) => data.set(rows.get(img.sha256)! as never, i * per));
      await writer.write(`shards/${shard}`, encodeFeatureShard({
        imageIds: done.images, sha256s: kept.map((i) => i.sha256), shape: backbone.shape, dtype: params.dtype, data, metadata,
      }));
      await writer.write(`.progress/${s}.json`, JSON.stringify(done));
    }
    const shaOf = new Map(planned.map((i) => [i.image_id, i.sha256]));
    done.images.forEach((id, row) => index.push({ image_id: id, sha256: shaOf.get(id)!, shard, row }));
    failed.push(...done.failed);
  }
  progress.stop();
  engine.dispose();
  log.info(`reused ${reused.toLocaleString('en')}, computed ${computed.toLocaleString('en')}, failed ${failed.length}`);

  await writer.write('shards/index.parquet', encodeParquet(makeTable({
    image_id: utf8(index.map((r) => r.image_id)), sha256: utf8(index.map((r) => r.sha256)),
    shard: utf8(index.map((r) => r.shard)), row: int32(index.map((r) => r.row)),
  })));
  await writer.remove('.progress');
  return writer.commit({
    kind: 'features',
    schemaVersion: FEATURES_SCHEMA_VERSION,
    stage: 'features',
    createdBy: '@caption/features@0.1.0',
    params,
    upstream: { ingest: ingest.manifestHash },
    rows: { images: index.length, failed: failed.length, shards: Math.ceil(images.length / params.shardSize) },
    extra: { ...metadata, config, shape: backbone.shape, dtype: params.dtype, failed },
  });
}
