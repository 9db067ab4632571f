/**
 * ingest: a caption data set directory (Flickr8k, Flickr30k, Kaggle CSV, COCO or Karpathy layout) ->
 * `images`, `captions` and `rejects` Parquet tables. With `dataset: demo` the embedded demo data set is
 * generated first (inside the artifact), then read by exactly the same code as real data.
 */
import path from 'node:path';
import {
  ArtifactWriter, PipelineError, artifactDir, catalog, createLogger, createProgress, deriveSeed, expandEnv, repoRoot,
  type Manifest, type StageParamsFile,
} from '@caption/core';
import { writeDemoDataset } from './demo/generate.ts';
import type { IngestParams } from './params.ts';
import { listImageFiles, probeImages } from './probe.ts';
import { readCaptionSource } from './read-source.ts';
import { isContainedPath } from './split.ts';
import { assembleTables } from './transform.ts';

const log = createLogger('ingest');
export const INGEST_SCHEMA_VERSION = 2;

export async function runIngest(p: StageParamsFile<IngestParams>, outDir = artifactDir('ingest')): Promise<Manifest> {
  const writer = await ArtifactWriter.open(outDir);
  try {
    return await ingestInto(writer, p);
  } catch (err) {
    await writer.abort(); // a failed run leaves the previous artifact as it was, and no temp dir
    throw err;
  }
}

async function ingestInto(writer: ArtifactWriter, p: StageParamsFile<IngestParams>): Promise<Manifest> {
  const { params } = p;
  // The data set root, and how downstream stages find it again (never an absolute path: portable).
  const demo = params.dataset === 'demo';
  const rootSpec = demo ? `./${catalog.ingest.demoDataset}` : params.dataset;
  const root = demo ? writer.path(catalog.ingest.demoDataset) : path.resolve(repoRoot(), expandEnv(params.dataset));
  if (demo) await writeDemoDataset(root, params.demo);

  const source = await readCaptionSource(root, params);
  if (source.recordsRead === 0) throw new PipelineError('input', `${source.format}: no caption records in ${root}`);
  const paths = source.captions.map((c) => c.path).filter(isContainedPath);
  const probing = createProgress('[ingest] probing', new Set(paths).size, 'images');
  const probes = await probeImages(root, paths, params.concurrency, () => probing.tick());
  probing.stop();
  const referenced = new Set([...paths, ...source.listedImages.map((i) => i.path)]);
  const files = (await Promise.all(source.imageDirs.map((d) => listImageFiles(root, d)))).flat();
  const tables = assembleTables({
    source,
    probes,
    unreferencedFiles: files.filter((f) => !referenced.has(f)),
    splitSeed: deriveSeed(p.seed, 'ingest/split'),
    splitFractions: params.splitFractions,
  });

  const c = tables.counts;
  log.info(`${source.format}: ${c.caption_records} caption records -> kept ${c.captions_kept} of ${c.images} images, ` +
    `rejected ${c.captions_rejected}; splits train ${c.images_train} / dev ${c.images_dev} / test ${c.images_test} / none ${c.images_none}`);
  for (const [reason, n] of Object.entries(c).filter(([k]) => k.startsWith('rejected: '))) {
    log.warn(`${n} × ${reason.slice('rejected: '.length)} (e.g. ${example(tables.rejects, reason.slice(10))})`);
  }
  if (params.strict && tables.rejects.length) {
    const list = tables.rejects.slice(0, 20).map((r) => `  ${r.source}:${r.record} ${r.reason}: ${r.raw.slice(0, 80)}`).join('\n');
    throw new PipelineError('data', `strict ingest: ${tables.rejects.length} rejected records (first ${Math.min(20, tables.rejects.length)}):\n${list}`);
  }
  if (!tables.captions.length) log.warn(`no usable captions in ${root}: every record was rejected (see rejects.parquet)`);

  await catalog.ingest.images.save(writer, tables.images);
  await catalog.ingest.captions.save(writer, tables.captions);
  await catalog.ingest.rejects.save(writer, tables.rejects.map((r) => ({ ...r, detail: r.detail ?? '' })));
  return writer.commit({
    kind: catalog.ingest.kind,
    schemaVersion: INGEST_SCHEMA_VERSION,
    stage: 'ingest',
    createdBy: '@caption/ingest@0.1.0',
    params,
    upstream: {},
    rows: tables.counts,
    extra: { datasetRoot: rootSpec, format: source.format, inputs: p.inputs ?? {} },
  });
}

const example = (rejects: { source: string; record: number; reason: string }[], reason: string) => {
  const r = rejects.find((x) => x.reason === reason)!;
  return `${r.source}:${r.record}`;
};
