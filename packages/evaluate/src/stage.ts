/**
 * evaluate: checkpoint + features + captions -> captions for the chosen split (greedy or beam search), corpus
 * BLEU-1..4, CIDEr-D and ROUGE-L against the constant-caption baseline: `report.json`, `report.md`,
 * `report.html`, `predictions.parquet`, `scores.parquet`. A pure function of those inputs: the comparison with
 * the previous run comes from the runs history and is rendered by `caption run`, outside the artifact.
 */
import { ArtifactWriter, PipelineError, artifactDir, catalog, createLogger, createProgress, openStage, type Manifest, type StageParamsFile, decodeIds } from '@caption/core';
import { initTf } from '@caption/core/tf';
import { imageFiles } from './image-files.ts';
import type { EvaluateParams } from './params.ts';
import { reportHtml } from './report-html.ts';
import { reportPictures } from './report-images.ts';
import { NO_CONSTANT, reportMarkdown, type ReportMeta } from './report.ts';
import { METRICS, evaluateCaptions, metricValues, normalise, type EvaluationReport } from './transform.ts';
import { decodeCheckpoint, greedyDecode, type DecodedCaption, beamDecode } from '@caption/model';

const log = createLogger('evaluate');
export const EVALUATE_SCHEMA_VERSION = 2;

export async function runEvaluate(
  p: StageParamsFile<EvaluateParams>,
  dirs = { ingest: artifactDir('ingest'), features: artifactDir('features'), train: artifactDir('train'), out: artifactDir('evaluate') },
): Promise<Manifest> {
  const { params } = p;
  const backend = await initTf();
  const inputs = await readInputs(dirs);
  const { references, imageIds } = referencesOf(inputs, params.split);
  const decoded = decodeImages(inputs, imageIds, params, backend);
  const report = evaluateCaptions({
    references,
    predictions: new Map([...decoded].map(([id, d]) => [id, decodeIds(d.tokens, inputs.ckpt.vocabulary)])),
    trainCaptions: inputs.captions.filter((c) => c.split === 'train').map((c) => c.caption),
    baselineCandidates: params.baselineCandidates,
    samples: params.samples,
  });
  const meta = {
    pipeline: p.pipeline, split: params.split, decoder: inputs.ckpt.model.config.decoder, backbone: String(inputs.ckpt.extra.backbone), decoding: decodingLabel(params),
  };
  const html = await renderHtml(inputs, report, meta, references, decoded);

  const upstream = { ingest: inputs.ingest.manifestHash, features: inputs.features.manifestHash, train: inputs.trained.manifestHash };
  const manifest = await writeArtifact(dirs.out, { params, report, meta, markdown: reportMarkdown(report, meta), html, backend, upstream });
  log.info(`BLEU-1..4 ${report.bleu.map((b) => b.toFixed(4)).join(' / ')}, CIDEr-D ${report.ciderD.toFixed(4)}, ROUGE-L ${report.rougeL.toFixed(4)}; ` +
    (report.baseline.caption ? `constant baseline BLEU-4 ${report.baseline.bleu[3].toFixed(4)}, CIDEr-D ${report.baseline.ciderD.toFixed(4)}` : `no constant baseline (${NO_CONSTANT})`));
  checkGate(report, params.min);
  return manifest;
}

/**
 * What evaluate reads: the three upstream artifacts; the captions, the feature store, the trained checkpoint, its
 * loss curve (for report.html) and where each image's file is (report.html pictures some).
 */
async function readInputs(dirs: { ingest: string; features: string; train: string }) {
  const ingest = await openStage('ingest', dirs.ingest);
  const features = await openStage('features', dirs.features);
  const trained = await openStage('train', dirs.train);
  const captions = await catalog.ingest.captions.load(ingest);
  const store = await catalog.features.shards.loadStore(features);
  const ckpt = decodeCheckpoint(await catalog.train.checkpoint.load(trained), trained.file(catalog.train.checkpoint.name));
  checkSameFeatures(features.manifest.extra ?? {}, ckpt.extra.features as Record<string, unknown> | undefined);
  const lossCurveSvg = trained.has(catalog.train.lossCurve.name) ? await catalog.train.lossCurve.load(trained) : undefined;
  return { ingest, features, trained, captions, store, ckpt, lossCurveSvg, images: await imageFiles(ingest) };
}
type Inputs = Awaited<ReturnType<typeof readInputs>>;

/**
 * The features must come from the network the checkpoint was trained on (same weights, cut and preprocessing):
 * a checkpoint scored on another data set (`train.checkpoint`) gets that data set's features from it, and a
 * mismatch would give captions of the wrong inputs, silently. Checkpoints that do not record it are not checked.
 */
function checkSameFeatures(features: Record<string, unknown>, trainedOn: Record<string, unknown> | undefined): void {
  if (!trainedOn) return;
  for (const key of ['backbone', 'weights_sha256', 'cut_layer', 'preprocessing', 'shape']) {
    if (JSON.stringify(features[key]) !== JSON.stringify(trainedOn[key])) {
      throw new PipelineError('input', `the checkpoint was trained on features with ${key} ${JSON.stringify(trainedOn[key])}, ` +
        `these features have ${JSON.stringify(features[key])}: extract them with the checkpoint's features params`);
    }
  }
}

/** The split's images that have features, each with its reference captions (in caption order), and their ids sorted. */
function referencesOf({ captions, store }: Inputs, split: EvaluateParams['split']): { references: Map<string, string[]>; imageIds: string[] } {
  const references = new Map<string, string[]>();
  for (const c of captions) if (c.split === split && store.has(c.image_id)) references.set(c.image_id, [...(references.get(c.image_id) ?? []), c.caption]);
  const imageIds = [...references.keys()].sort();
  if (!imageIds.length) throw new PipelineError('input', `no '${split}' images with features to evaluate`);
  return { references, imageIds };
}

/**
 * The caption of every image (greedy or beam search), by image id in `imageIds` order. One decoder call per
 * batch, so a long decode (beam search on 1,000 images) shows progress; batching does not change the captions
 * (tested).
 */
function decodeImages({ ckpt, store }: Inputs, imageIds: string[], params: EvaluateParams, backend: string): Map<string, DecodedCaption> {
  const started = Date.now();
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
  log.info(`${decodingLabel(params)}: ${imageIds.length} images on tfjs/${backend} in ${secs.toFixed(1)} s (${(imageIds.length / secs).toFixed(1)} captions/s)`);
  return new Map(imageIds.map((id, i) => [id, decoded[i]]));
}

/** report.html: the report, the train artifact's loss curve, the references, and the pictured images. */
async function renderHtml(
  { lossCurveSvg, images, ckpt, store }: Inputs, report: EvaluationReport, meta: ReportMeta, references: Map<string, string[]>, decoded: Map<string, DecodedCaption>,
): Promise<string> {
  return reportHtml({
    report, meta,
    lossCurveSvg,
    references: new Map([...references].map(([id, refs]) => [id, refs.map(normalise)])),
    ...(await reportPictures(images, report, decoded, ckpt.vocabulary, store.shape[0])),
  });
}

interface Outputs {
  params: EvaluateParams;
  report: EvaluationReport;
  meta: ReportMeta;
  markdown: string;
  html: string;
  backend: string;
  upstream: Record<string, string>;
}

/** report.json, report.md, report.html, predictions.parquet, scores.parquet, committed as the artifact. */
async function writeArtifact(dir: string, { params, report, meta, markdown, html, backend, upstream }: Outputs): Promise<Manifest> {
  const writer = await ArtifactWriter.open(dir);
  const { perImage, ...summary } = report;
  const out = catalog.evaluate;
  await out.report.save(writer, { ...meta, ...summary, min: params.min });
  await out.markdown.save(writer, markdown);
  await out.html.save(writer, html);
  await out.predictions.save(writer, perImage.map((r) => ({ image_id: r.image_id, caption: r.prediction })));
  await out.scores.save(writer, perImage.map((r) => ({ image_id: r.image_id, ...metricValues(r) })));
  return writer.commit({
    kind: out.kind,
    schemaVersion: EVALUATE_SCHEMA_VERSION,
    stage: 'evaluate',
    createdBy: '@caption/evaluate@0.1.0',
    params,
    upstream,
    rows: { images: report.images },
    extra: { backend, bleu: report.bleu, ciderD: report.ciderD, rougeL: report.rougeL, baseline: report.baseline },
  });
}

/** How the captions were decoded, as reports name it. */
export const decodingLabel = (params: Pick<EvaluateParams, 'beamSize' | 'lengthPenalty'>) =>
  params.beamSize > 1 ? `beam search (k=${params.beamSize}, length penalty ${params.lengthPenalty})` : 'greedy decoding';

/** The CI gate: after writing the report (so it can be read), fail if any metric is below its minimum. */
export function checkGate(report: EvaluationReport, min: EvaluateParams['min']): void {
  const got = metricValues(report);
  const failures = METRICS.filter((m) => min[m] !== undefined && got[m] < min[m]!);
  if (failures.length) {
    throw new PipelineError('quality', `quality gate failed: ${failures.map((m) => `${m} ${got[m].toFixed(4)} < ${min[m]}`).join(', ')}`);
  }
}
