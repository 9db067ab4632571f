/**
 * features: ingest's images table -> Arrow IPC feature shards `shards/shard-00000.arrow`, ... (one backbone
 * per run), each written as soon as it is full so memory stays bounded.
 */
import path from 'node:path';
import {
  ArtifactWriter, artifactDir, createLogger, encodeFeatureShard, expandEnv, openArtifact, ParquetDataset, repoRoot, tableRows, type Manifest, type StageParamsFile,
} from '@caption/core';
import { initTf } from '@caption/core/tf';
import { BACKBONES, WEIGHTS_NOTE } from './backbones.ts';
import { decodeImage } from './decode.ts';
import { loadBackbone } from './model.ts';
import type { FeaturesParams } from './params.ts';
import { extractFeatures, type ImageRef } from './transform.ts';
import { ShardBuffer } from './shard-buffer.ts';

const log = createLogger('features');
export const FEATURES_SCHEMA_VERSION = 1;

export async function runFeatures(
  p: StageParamsFile<FeaturesParams>,
  ingestDir = artifactDir('ingest'),
  outDir = artifactDir('features'),
): Promise<Manifest> {
  const { params } = p;
  const ingest = await openArtifact(ingestDir, 'captions');
  const root = resolveDatasetRoot(String(ingest.manifest.extra?.datasetRoot), ingest.dir);
  const rows = tableRows<{ image_id: string; path: string; sha256: string }>(
    await new ParquetDataset(ingest.file('images.parquet')).load(),
  );
  const images: ImageRef[] = rows.map((r) => ({ image_id: r.image_id, sha256: r.sha256, file: path.join(root, r.path) }));

  const backend = await initTf();
  const backbone = BACKBONES[params.backbone];
  const { extractor, weightsHash } = await loadBackbone(backbone);
  log.info(`${backbone.id} on tfjs/${backend}: ${images.length} images -> [${backbone.shape}] ${params.dtype}`);

  const writer = await ArtifactWriter.open(outDir);
  const metadata = { backbone: backbone.id, weights: WEIGHTS_NOTE, weights_sha256: weightsHash, preprocessing: backbone.preprocessing, engine: `tfjs-${backend}` };
  const shards = new ShardBuffer(params.shardSize, backbone.shape, params.dtype, async (i, shard) =>
    writer.write(`shards/shard-${String(i).padStart(5, '0')}.arrow`, encodeFeatureShard({ ...shard, metadata })),
  );
  const failed: string[] = [];
  const started = Date.now();
  for await (const batch of extractFeatures(images, extractor, backbone, params, decodeImage)) {
    await shards.add(batch.images, batch.data);
    for (const f of batch.failed) (failed.push(f.image.image_id), log.warn(`${f.image.image_id}: ${f.reason}`));
    const done = shards.count + failed.length;
    if (done % (params.batchSize * 4) < params.batchSize || done === images.length) {
      log.info(`${done}/${images.length} images, ${(done / ((Date.now() - started) / 1000)).toFixed(1)} img/s`);
    }
  }
  await shards.flush();

  return writer.commit({
    kind: 'features',
    schemaVersion: FEATURES_SCHEMA_VERSION,
    stage: 'features',
    createdBy: '@caption/features@0.1.0',
    params,
    upstream: { ingest: ingest.manifestHash },
    rows: { images: shards.count, failed: failed.length, shards: shards.shardCount },
    extra: { ...metadata, shape: backbone.shape, dtype: params.dtype, failed },
  });
}

/** `./x` is relative to the ingest artifact (the generated demo data); anything else is a data set path. */
function resolveDatasetRoot(spec: string, ingestDir: string): string {
  return spec.startsWith('./') ? path.join(ingestDir, spec) : path.resolve(repoRoot(), expandEnv(spec));
}
