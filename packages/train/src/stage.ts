/**
 * train: feature shards + token ids -> a checkpoint (`checkpoint/`) and the per-epoch `training-log.parquet`.
 */
import {
  ArtifactWriter, FeatureStore, ParquetDataset, artifactDir, createLogger, deriveSeed, encodeParquet, float64, int32, makeTable, openArtifact, tableRows, type Manifest, type StageParamsFile,
} from '@caption/core';
import { initTf } from '@caption/core/tf';
import { loadVocabulary } from '@caption/tokenize';
import type { ImageCaptions } from './batches.ts';
import { encodeCheckpoint } from './checkpoint.ts';
import { train } from './loop.ts';
import { createCaptionModel } from './models/index.ts';
import type { TrainParams } from './params.ts';

const log = createLogger('train');
export const TRAIN_SCHEMA_VERSION = 1;

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
  log.info(`${params.decoder} on tfjs/${backend}: ${data.train.length} train images, ${data.dev.length} dev images, ` +
    `features [${store.shape}], vocabulary ${vocabulary.tokens.length}`);

  const seed = deriveSeed(p.seed, 'train');
  const model = createCaptionModel({
    decoder: params.decoder, featureShape: store.shape, vocabSize: vocabulary.tokens.length,
    embedDim: params.embedDim, units: params.units,
  }, seed);
  const history = train(model, data, params, seed, log);

  const writer = await ArtifactWriter.open(dirs.out);
  const files = await encodeCheckpoint({ model, vocabulary, extra: { backbone: features.manifest.extra?.backbone, features: features.manifest.extra } });
  for (const [name, bytes] of Object.entries(files)) await writer.write(`checkpoint/${name}`, bytes);
  await writer.write('training-log.parquet', encodeParquet(makeTable({
    epoch: int32(history.map((h) => h.epoch)), step: int32(history.map((h) => h.step)),
    loss: float64(history.map((h) => h.loss)), dev_loss: float64(history.map((h) => h.dev_loss)),
    lr: float64(history.map((h) => h.lr)),
  })));
  const best = history.reduce((a, h) => (h.dev_loss < a.dev_loss ? h : a), history[0]);
  return writer.commit({
    kind: 'checkpoint',
    schemaVersion: TRAIN_SCHEMA_VERSION,
    stage: 'train',
    createdBy: '@caption/train@0.1.0',
    params,
    upstream: { features: features.manifestHash, tokenize: tokens.manifestHash },
    rows: { train_images: data.train.length, dev_images: data.dev.length, epochs: history.length },
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
