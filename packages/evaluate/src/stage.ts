/**
 * evaluate: checkpoint + features + captions -> captions for the chosen split (greedy or beam search), corpus
 * BLEU-1..4, CIDEr-D and ROUGE-L against the constant-caption baseline and the previous report in the output
 * directory: `report.json`, `report.md`, `report.html`, `predictions.parquet`, `scores.parquet`.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import {
  ArtifactWriter, FeatureStore, ParquetDataset, PipelineError, artifactDir, canonicalJson, createLogger, createProgress, encodeParquet, float64, makeTable, openArtifact, tableRows, utf8, type Manifest, type StageParamsFile,
} from '@caption/core';
import { initTf } from '@caption/core/tf';
import { decodeIds } from '@caption/tokenize';
import { greedyDecode, loadCheckpoint, type DecodedCaption } from '@caption/train';
import { beamDecode } from './beam.ts';
import { imageFiles } from './image-files.ts';
import type { EvaluateParams } from './params.ts';
import { readPreviousRun } from './previous-run.ts';
import { reportHtml } from './report-html.ts';
import { reportPictures } from './report-images.ts';
import { reportMarkdown } from './report.ts';
import { METRICS, evaluateCaptions, metricValues, normalise, type EvaluationReport } from './transform.ts';

const log = createLogger('evaluate');
export const EVALUATE_SCHEMA_VERSION = 2;

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
  const previous = await readPreviousRun(dirs.out); // before the writer replaces it

  const references = new Map<string, string[]>();
  for (const c of captions) if (c.split === params.split && store.has(c.image_id)) references.set(c.image_id, [...(references.get(c.image_id) ?? []), c.caption]);
  const imageIds = [...references.keys()].sort();
  if (!imageIds.length) throw new PipelineError('input', `no '${params.split}' images with features to evaluate`);

  const started = Date.now();
  const decoding = params.beamSize > 1 ? `beam search (k=${params.beamSize}, length penalty ${params.lengthPenalty})` : 'greedy decoding';
  // One decoder call per batch, so a long decode (beam search on 1,000 images) shows progress; batching does
  // not change the captions (tested).
  const batch = params.beamSize > 1 ? Math.max(1, Math.floor(params.batchSize / params.beamSize)) : params.batchSize;
  const progress = createProgress('[evaluate] decoding', imageIds.length, 'images');
  const decoded: DecodedCaption[] = [];
  for (let i = 0; i < imageIds.length; i += batch) {
    const ids = imageIds.slice(i, i + batch);
    decoded.push(...(params.beamSize > 1
      ? beamDecode(ckpt.model, store, ids, { ...params, batchSize: batch })
      : greedyDecode(ckpt.model, store, ids, params.maxLength, batch)));
    progress.tick(ids.length);
  }
  progress.stop();
  const secs = (Date.now() - started) / 1000;
  log.info(`${decoding}: ${imageIds.length} images on tfjs/${backend} in ${secs.toFixed(1)} s (${(imageIds.length / secs).toFixed(1)} captions/s)`);

  const report = evaluateCaptions({
    references,
    predictions: new Map(imageIds.map((id, i) => [id, decodeIds(decoded[i].tokens, ckpt.vocabulary)])),
    trainCaptions: captions.filter((c) => c.split === 'train').map((c) => c.caption),
    baselineCandidates: params.baselineCandidates,
    samples: params.samples,
  });
  const meta = { pipeline: p.pipeline, split: params.split, decoder: ckpt.model.config.decoder, backbone: String(ckpt.extra.backbone), decoding };
  const markdown = reportMarkdown(report, meta, previous);
  const html = reportHtml({
    report, meta, previous,
    lossCurveSvg: existsSync(trained.file('loss-curve.svg')) ? await readFile(trained.file('loss-curve.svg'), 'utf8') : undefined,
    references: new Map([...references].map(([id, refs]) => [id, refs.map(normalise)])),
    ...(await reportPictures(await imageFiles(ingest), report, new Map(imageIds.map((id, i) => [id, decoded[i]])), ckpt.vocabulary, store.shape[0])),
  });

  const writer = await ArtifactWriter.open(dirs.out);
  const { perImage, ...summary } = report;
  await writer.write('report.json', canonicalJson({ ...meta, ...summary, min: params.min }));
  await writer.write('report.md', markdown);
  await writer.write('report.html', html);
  await writer.write('predictions.parquet', encodeParquet(makeTable({
    image_id: utf8(perImage.map((r) => r.image_id)), caption: utf8(perImage.map((r) => r.prediction)),
  })));
  const perImageMetrics = perImage.map(metricValues);
  await writer.write('scores.parquet', encodeParquet(makeTable({
    image_id: utf8(perImage.map((r) => r.image_id)),
    ...Object.fromEntries(METRICS.map((m) => [m, float64(perImageMetrics.map((r) => r[m]))])),
  })));
  const manifest = await writer.commit({
    kind: 'report',
    schemaVersion: EVALUATE_SCHEMA_VERSION,
    stage: 'evaluate',
    createdBy: '@caption/evaluate@0.1.0',
    params,
    upstream: { ingest: ingest.manifestHash, features: features.manifestHash, train: trained.manifestHash },
    rows: { images: report.images },
    extra: { backend, bleu: report.bleu, ciderD: report.ciderD, rougeL: report.rougeL, baseline: report.baseline, previous: previous?.manifestHash ?? null },
  });
  log.info(`BLEU-1..4 ${report.bleu.map((b) => b.toFixed(4)).join(' / ')}, CIDEr-D ${report.ciderD.toFixed(4)}, ROUGE-L ${report.rougeL.toFixed(4)}; ` +
    `constant baseline BLEU-4 ${report.baseline.bleu[3].toFixed(4)}, CIDEr-D ${report.baseline.ciderD.toFixed(4)}`);
  checkGate(report, params.min);
  return manifest;
}

/** The CI gate: after writing the report (so it can be read), fail if any metric is below its minimum. */
export function checkGate(report: EvaluationReport, min: EvaluateParams['min']): void {
  const got = metricValues(report);
  const failures = METRICS.filter((m) => min[m] !== undefined && got[m] < min[m]!);
  if (failures.length) {
    throw new PipelineError('quality', `quality gate failed: ${failures.map((m) => `${m} ${got[m].toFixed(4)} < ${min[m]}`).join(', ')}`);
  }
}
