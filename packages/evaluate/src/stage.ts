/**
 * evaluate: checkpoint + features + captions -> greedy captions for the chosen split, corpus BLEU-1..4
 * against the constant-caption baseline: `report.json`, `report.md`, `predictions.parquet`, `scores.parquet`.
 */
import {
  ArtifactWriter, FeatureStore, ParquetDataset, PipelineError, artifactDir, canonicalJson, createLogger, encodeParquet, float64, makeTable, openArtifact, tableRows, utf8, type Manifest, type StageParamsFile,
} from '@caption/core';
import { initTf } from '@caption/core/tf';
import { decodeIds } from '@caption/tokenize';
import { loadCheckpoint } from '@caption/train';
import { beamDecode } from './beam.ts';
import { greedyDecode } from './decode.ts';
import type { EvaluateParams } from './params.ts';
import { reportMarkdown } from './report.ts';
import { evaluateCaptions } from './transform.ts';

const log = createLogger('evaluate');
export const EVALUATE_SCHEMA_VERSION = 1;

export async function runEvaluate(
  p: StageParamsFile<EvaluateParams>,
  dirs = { ingest: artifactDir('ingest'), features: artifactDir('features'), train: artifactDir('train'), out: artifactDir('evaluate') },
): Promise<Manifest> {
  const { params } = p;
  const backend = await initTf();
  const ingest = await openArtifact(dirs.ingest, 'captions');
  const features = await openArtifact(dirs.features, 'features');
  const trained = await openArtifact(dirs.train, 'checkpoint');
  const captions = tableRows<{ image_id: string; caption: string; split: string }>(
    await new ParquetDataset(ingest.file('captions.parquet')).load(),
  );
  const store = await FeatureStore.load(features.dir);
  const ckpt = await loadCheckpoint(trained.file('checkpoint'));

  const references = new Map<string, string[]>();
  for (const c of captions) if (c.split === params.split && store.has(c.image_id)) references.set(c.image_id, [...(references.get(c.image_id) ?? []), c.caption]);
  const imageIds = [...references.keys()].sort();
  if (!imageIds.length) throw new PipelineError('input', `no '${params.split}' images with features to evaluate`);

  const started = Date.now();
  const decoding = params.beamSize > 1 ? `beam search (k=${params.beamSize}, length penalty ${params.lengthPenalty})` : 'greedy decoding';
  const decoded = params.beamSize > 1
    ? beamDecode(ckpt.model, store, imageIds, { ...params, batchSize: Math.max(1, Math.floor(params.batchSize / params.beamSize)) })
    : greedyDecode(ckpt.model, store, imageIds, params.maxLength, params.batchSize);
  const secs = (Date.now() - started) / 1000;
  log.info(`${decoding}: ${imageIds.length} images on tfjs/${backend} in ${secs.toFixed(1)} s (${(imageIds.length / secs).toFixed(1)} captions/s)`);

  const report = evaluateCaptions({
    references,
    predictions: new Map(imageIds.map((id, i) => [id, decodeIds(decoded[i], ckpt.vocabulary)])),
    trainCaptions: captions.filter((c) => c.split === 'train').map((c) => c.caption),
    baselineCandidates: params.baselineCandidates,
    samples: params.samples,
  });
  const meta = { pipeline: p.pipeline, split: params.split, decoder: ckpt.model.config.decoder, backbone: String(ckpt.extra.backbone), decoding };
  const markdown = reportMarkdown(report, meta);

  const writer = await ArtifactWriter.open(dirs.out);
  const { perImage, ...summary } = report;
  await writer.write('report.json', canonicalJson({ ...meta, ...summary, min: params.min }));
  await writer.write('report.md', markdown);
  await writer.write('predictions.parquet', encodeParquet(makeTable({
    image_id: utf8(perImage.map((r) => r.image_id)), caption: utf8(perImage.map((r) => r.prediction)),
  })));
  await writer.write('scores.parquet', encodeParquet(makeTable({
    image_id: utf8(perImage.map((r) => r.image_id)),
    ...Object.fromEntries([0, 1, 2, 3].map((k) => [`bleu${k + 1}`, float64(perImage.map((r) => r.bleu[k]))])),
  })));
  const manifest = await writer.commit({
    kind: 'report',
    schemaVersion: EVALUATE_SCHEMA_VERSION,
    stage: 'evaluate',
    createdBy: '@caption/evaluate@0.1.0',
    params,
    upstream: { ingest: ingest.manifestHash, features: features.manifestHash, train: trained.manifestHash },
    rows: { images: report.images },
    extra: { backend, bleu: report.bleu, baseline: report.baseline },
  });
  log.info(`BLEU-1..4 ${report.bleu.map((b) => b.toFixed(4)).join(' / ')}; constant baseline BLEU-4 ${report.baseline.bleu[3].toFixed(4)}`);
  checkGate(report.bleu, params.min);
  return manifest;
}

/** The CI gate: after writing the report (so it can be read), fail if any metric is below its minimum. */
function checkGate(bleu: number[], min: EvaluateParams['min']): void {
  const failures = Object.entries(min)
    .map(([k, v]) => ({ k, v: v as number, got: bleu[Number(k.slice(4)) - 1] }))
    .filter(({ v, got }) => got < v);
  if (failures.length) {
    throw new PipelineError('quality', `quality gate failed: ${failures.map(({ k, v, got }) => `${k} ${got.toFixed(4)} < ${v}`).join(', ')}`);
  }
}
