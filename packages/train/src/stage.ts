/**
 * train: feature shards + token ids -> the best checkpoint (`checkpoint/`), `training-log.parquet` and
 * `loss-curve.svg`. Every epoch is checkpointed in the artifact's `.partial` dir, so an interrupted run
 * continues where it stopped (`train.resume: auto`) and ends with the same weights.
 */
import {
  ArtifactWriter, FeatureStore, ParquetDataset, artifactDir, canonicalJson, createLogger, deriveSeed, encodeParquet,
  float64, int32, makeTable, openArtifact, sha256, tableRows, type Manifest, type StageParamsFile,
} from '@caption/core';
import { initTf } from '@caption/core/tf';
import { loadVocabulary } from '@caption/tokenize';
import type { ImageCaptions } from './batches.ts';
import { encodeCheckpoint, type Checkpoint } from './checkpoint.ts';
import { loadBestWeights, loadLatestEpoch, removeEpochs, saveEpoch } from './epoch-checkpoint.ts';
import { createOptimizer, train } from './loop.ts';
import { lossCurveSvg } from './loss-curve.ts';
import { modelConfig } from './model-config.ts';
import { createCaptionModel } from './models/index.ts';
import type { TrainParams } from './params.ts';

const log = createLogger('train');
export const TRAIN_SCHEMA_VERSION = 3; // 3: training-log reward, dev_cider (self-critical epochs)

export async function runTrain(
  p: StageParamsFile<TrainParams>,
  dirs = { features: artifactDir('features'), tokenize: artifactDir('tokenize'), out: artifactDir('train') },
): Promise<Manifest> {
  const { params } = p;
  const backend = await initTf(params.backend);
  const features = await openArtifact(dirs.features, 'features');
  const tokens = await openArtifact(dirs.tokenize, 'tokens');
  const vocabulary = await loadVocabulary(tokens.file('vocabulary.parquet'));
  const rows = tableRows<{ image_id: string; split: string; token_ids: number[] }>(
    await new ParquetDataset(tokens.file('tokens.parquet')).load(),
  );
  const store = await FeatureStore.load(features.dir);
  const data = { train: groupByImage(rows, 'train', store), dev: groupByImage(rows, 'dev', store), features: store };
  const maxLength = Number(tokens.manifest.rows.max_length ?? Math.max(...rows.map((r) => r.token_ids.length)));
  log.info(`${params.decoder} on tfjs/${backend}: ${data.train.length} train images, ${data.dev.length} dev images, ` +
    `features [${store.shape}], vocabulary ${vocabulary.tokens.length}`);

  const seed = deriveSeed(p.seed, 'train');
  const model = createCaptionModel(modelConfig(params, store.shape, vocabulary.tokens.length, maxLength), seed);
  // `caption predict` rebuilds the backbone from this: the features params (weights spec, cutLayer) and the
  // pipeline seed (it seeds `weights: random`) say how; the features extra (weights hash, engine) checks it.
  const ckpt: Checkpoint = { model, vocabulary, extra: {
    backbone: features.manifest.extra?.backbone, features: features.manifest.extra, featuresParams: features.manifest.params, seed: p.seed,
  } };
  const optimizer = createOptimizer(params);
  const upstream = { features: features.manifestHash, tokenize: tokens.manifestHash };
  const writer = await ArtifactWriter.open(dirs.out, {
    resumeKey: params.resume === 'auto' ? sha256(canonicalJson({ params, seed: p.seed, upstream })) : undefined,
  });
  const resumed = writer.resumed ? await loadLatestEpoch(writer, ckpt, optimizer) : undefined;
  if (resumed) log.info(`resuming after epoch ${resumed.state.epoch} (step ${resumed.state.step})`);

  const state = await train(model, optimizer, data, params, seed, {
    onEpoch: (s, improved, average) => saveEpoch(writer, ckpt, optimizer, s, improved, average),
    loadBest: () => loadBestWeights(writer, ckpt),
    log: log.info,
  }, resumed);
  optimizer.dispose();

  const history = state.history;
  for (const [name, bytes] of Object.entries(await encodeCheckpoint(ckpt))) await writer.write(`checkpoint/${name}`, bytes);
  await writer.write('training-log.parquet', encodeParquet(makeTable({
    epoch: int32(history.map((h) => h.epoch)), step: int32(history.map((h) => h.step)),
    loss: float64(history.map((h) => h.loss)), dev_loss: float64(history.map((h) => h.dev_loss)),
    lr: float64(history.map((h) => h.lr)),
    // self-critical epochs only (NaN on cross-entropy ones)
    reward: float64(history.map((h) => h.reward ?? NaN)), dev_cider: float64(history.map((h) => h.dev_cider ?? NaN)),
  })));
  await writer.write('loss-curve.svg', lossCurveSvg(history, `${p.pipeline}: ${params.decoder}`));
  await removeEpochs(writer);
  const best = history.find((h) => h.epoch === state.bestEpoch) ?? history.at(-1)!;
  return writer.commit({
    kind: 'checkpoint',
    schemaVersion: TRAIN_SCHEMA_VERSION,
    stage: 'train',
    createdBy: '@caption/train@0.1.0',
    params,
    upstream,
    rows: { train_images: data.train.length, dev_images: data.dev.length, epochs: history.length, steps: state.step },
    extra: { backend, bestEpoch: best.epoch, bestDevLoss: best.dev_loss, finalLoss: history.at(-1)!.loss },
  });
}

function groupByImage(rows: { image_id: string; split: string; token_ids: number[] }[], split: string, store: FeatureStore): ImageCaptions[] {
  const byImage = new Map<string, Int32Array[]>();
  for (const r of rows) {
    if (r.split !== split || !store.has(r.image_id)) continue;
    const list = byImage.get(r.image_id) ?? [];
    list.push(Int32Array.from(r.token_ids));
    byImage.set(r.image_id, list);
  }
  return [...byImage].sort(([a], [b]) => (a < b ? -1 : 1)).map(([imageId, captions]) => ({ imageId, captions }));
}
