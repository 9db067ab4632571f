/**
 * ingest: a data set directory (Flickr8k layout) -> `images`, `captions` and `rejects` Parquet tables.
 * With `dataset: demo` the embedded demo data set is generated first (inside the artifact), then read
 * by exactly the same code as real data.
 */
import path from 'node:path';
import {
  ArtifactWriter, PipelineError, artifactDir, createLogger, encodeParquet, expandEnv, repoRoot,
  type Manifest, type StageParamsFile,
} from '@caption/core';
import { writeDemoDataset } from './demo/generate.ts';
import { FLICKR8K_FILES, parseSplitLists, parseTokenFile } from './flickr8k.ts';
import { listImageFiles, probeImages, readTextIfExists } from './probe.ts';
import type { IngestParams } from './params.ts';
import { imagesTable, captionsTable, rejectsTable } from './tables.ts';
import { assembleTables } from './transform.ts';
import { existsSync } from 'node:fs';

const log = createLogger('ingest');
export const INGEST_SCHEMA_VERSION = 1;

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
  let root: string;
  let rootSpec: string;
  if (params.dataset === 'demo') {
    root = writer.path('dataset');
    rootSpec = './dataset';
    await writeDemoDataset(root, params.demo);
  } else {
    rootSpec = params.dataset;
    root = path.resolve(repoRoot(), expandEnv(params.dataset));
  }

  const tokenText = await readTextIfExists(root, FLICKR8K_FILES.tokens);
  if (tokenText === undefined) {
    throw new PipelineError('input', `no captions found in ${root}: looked for ${FLICKR8K_FILES.tokens} (Flickr8k layout)`);
  }
  const imageDir = FLICKR8K_FILES.imageDirs.find((d) => existsSync(path.join(root, d)));
  if (!imageDir) throw new PipelineError('input', `no image folder in ${root}: looked for ${FLICKR8K_FILES.imageDirs.join(' or ')}/`);
  const splitLists = Object.fromEntries(
    await Promise.all(
      Object.entries(FLICKR8K_FILES.splits).map(async ([s, f]) => [s, (await readTextIfExists(root, f)) ?? ''] as const),
    ),
  );

  const parsed = parseTokenFile(tokenText);
  const referenced = new Set(parsed.captions.map((c) => c.image_id));
  const probes = await probeImages(root, imageDir, referenced, params.concurrency);
  const unreferenced = (await listImageFiles(root, imageDir)).filter((f) => !referenced.has(f));
  const tables = assembleTables({ parsed, splitOf: parseSplitLists(splitLists), imageDir, probes, unreferenced });

  log.info(`kept ${tables.captions.length} captions of ${tables.images.length} images; rejected ${tables.rejects.length}`);
  for (const [reason, n] of Object.entries(tables.counts).filter(([k]) => k.startsWith('rejected: '))) {
    log.warn(`${n} × ${reason.slice('rejected: '.length)}`);
  }
  if (tables.captions.length === 0) {
    throw new PipelineError('input', `no usable captions in ${root} (read ${FLICKR8K_FILES.tokens}, images in ${imageDir}/)`);
  }
  if (params.strict && tables.rejects.length) {
    const list = tables.rejects.slice(0, 20).map((r) => `  ${r.source}:${r.record} ${r.reason}`).join('\n');
    throw new PipelineError('data', `strict ingest: ${tables.rejects.length} rejected records\n${list}`);
  }

  await writer.write('images.parquet', encodeParquet(imagesTable(tables.images)));
  await writer.write('captions.parquet', encodeParquet(captionsTable(tables.captions)));
  await writer.write('rejects.parquet', encodeParquet(rejectsTable(tables.rejects)));
  return writer.commit({
    kind: 'captions',
    schemaVersion: INGEST_SCHEMA_VERSION,
    stage: 'ingest',
    createdBy: '@caption/ingest@0.1.0',
    params,
    upstream: {},
    rows: tables.counts,
    extra: { datasetRoot: rootSpec, format: 'flickr8k', inputs: p.inputs ?? {} },
  });
}
