/**
 * train: feature shards + token ids -> the best checkpoint (`checkpoint/`), `training-log.parquet` and
 * `loss-curve.svg`. Every epoch is checkpointed in the artifact's `.partial` dir, so an interrupted run
 * continues where it stopped (`train.resume: auto`) and ends with the same weights.
 */
import {
  ArtifactWriter, artifactDir, canonicalJson, catalog, createLogger, deriveSeed, openStage, sha256, vocabularyFromRows,
  type Artifact, type FeatureStore, type Manifest, type StageParamsFile, type TokenRow, type Vocabulary,
} from '@caption/core';
import { initTf } from '@caption/core/tf';
import { createCaptionModel, encodeCheckpoint, encoderHeadOutput, type Checkpoint } from '@caption/model';
import { loadEncoderHead, type FeaturesRecord } from './encoder-head.ts';
import type { ImageCaptions } from './batches.ts';
import { crossEntropyEpochs } from './cross-entropy.ts';
import { EpochCheckpoints } from './epoch-checkpoint.ts';
import { importCheckpoint } from './import-checkpoint.ts';
import { lossCurveSvg } from './loss-curve.ts';
import { modelConfig } from './model-config.ts';
import { createOptimizer } from './optimizer.ts';
import type { TrainParams } from './params.ts';
import { selfCriticalEpochs } from './self-critical.ts';
import { TrainSession } from './session.ts';
import type { TrainData, TrainState } from './state.ts';

const log = createLogger('train');
export const TRAIN_SCHEMA_VERSION = 3; // 3: training-log reward, dev_cider (self-critical epochs)

export async function runTrain(
  p: StageParamsFile<TrainParams>,
  dirs = { features: artifactDir('features'), tokenize: artifactDir('tokenize'), out: artifactDir('train') },
): Promise<Manifest> {
  const { params } = p;
  if (params.checkpoint) return importCheckpoint(p, dirs.out, TRAIN_SCHEMA_VERSION);
  const inputs = await openInputs(params, dirs);
  const seed = deriveSeed(p.seed, 'train');
  const ckpt = await buildCheckpoint(p, inputs, seed);
  const optimizer = createOptimizer(params);
  const upstream = { features: inputs.features.manifestHash, tokenize: inputs.tokens.manifestHash };
  const writer = await ArtifactWriter.open(dirs.out, {
    resumeKey: params.resume === 'auto' ? sha256(canonicalJson({ params, seed: p.seed, upstream })) : undefined,
  });
  const epochs = new EpochCheckpoints(writer, ckpt);
  const resumed = writer.resumed ? await epochs.loadLatest(optimizer) : undefined;
  if (resumed) log.info(`resuming after epoch ${resumed.state.epoch} (step ${resumed.state.step})`);

  const session = await TrainSession.open({ model: ckpt.model, optimizer, data: inputs.data, params, seed, hooks: {
    onEpoch: (s, improved, average) => epochs.save(optimizer, s, improved, average),
    loadBest: () => epochs.loadBest(),
    log: log.info,
  } }, resumed);
  try {
    await crossEntropyEpochs(session);
    await selfCriticalEpochs(session);
    await session.restoreBest();
  } finally {
    await session.close();
  }
  optimizer.dispose();

  await writeOutputs(writer, ckpt, session.state, `${p.pipeline}: ${params.decoder}`);
  await epochs.remove();
  return commit(writer, params, upstream, inputs, session.state);
}

interface Inputs {
  backend: string;
  features: Artifact;
  tokens: Artifact;
  vocabulary: Vocabulary;
  data: TrainData;
  maxLength: number;  // token ids in the longest caption
}

/** The features and tokenize artifacts, read: the vocabulary, each split's captions by image, the feature store. */
async function openInputs(params: TrainParams, dirs: { features: string; tokenize: string }): Promise<Inputs> {
  const backend = await initTf(params.backend);
  const features = await openStage('features', dirs.features);
  const tokens = await openStage('tokenize', dirs.tokenize);
  const vocabulary = vocabularyFromRows(await catalog.tokenize.vocabulary.load(tokens));
  const rows = await catalog.tokenize.tokens.load(tokens);
  const store = await catalog.features.shards.loadStore(features);
  const data = { train: groupByImage(rows, 'train', store), dev: groupByImage(rows, 'dev', store), features: store };
  const maxLength = Number(tokens.manifest.rows.max_length ?? Math.max(...rows.map((r) => r.token_ids.length)));
  log.info(`${params.decoder} on tfjs/${backend}: ${data.train.length} train images, ${data.dev.length} dev images, ` +
    `features [${store.shape}], vocabulary ${vocabulary.tokens.length}`);
  return { backend, features, tokens, vocabulary, data, maxLength };
}

/** A fresh model for these inputs (behind the backbone's own head layers with `encoderHead`), as the checkpoint it ends up in. */
async function buildCheckpoint(p: StageParamsFile<TrainParams>, inputs: Inputs, seed: number): Promise<Checkpoint> {
  const { features, vocabulary, data } = inputs;
  const config = modelConfig(p.params, data.features.shape, vocabulary.tokens.length, inputs.maxLength);
  const head = p.params.encoderHead ? await loadEncoderHead(p.params.encoderHead, features.manifest as FeaturesRecord, p.seed, p.params.encoderHeadLrScale) : undefined;
  const model = createCaptionModel(head ? { ...config, encoderHead: head.config } : config, seed);
  for (const [name, value] of Object.entries(head?.values ?? {})) (model.weights[name].assign(value), value.dispose());
  if (head) log.info(`encoder head ${head.config.from} -> ${head.config.to}: ${head.config.blocks.length} block(s), features [${data.features.shape}] -> [${encoderHeadOutput(head.config)}]`);
  // `caption predict` rebuilds the backbone from this: the features params (weights spec, cutLayer) and the
  // pipeline seed (it seeds `weights: random`) say how; the features extra (weights hash, engine) checks it.
  return { model, vocabulary, extra: {
    backbone: features.manifest.extra?.backbone, features: features.manifest.extra, featuresParams: features.manifest.params, seed: p.seed,
  } };
}

/** The checkpoint (the model holds the best epoch's weights by now), the training log and the loss curve. */
async function writeOutputs(writer: ArtifactWriter, ckpt: Checkpoint, state: TrainState, title: string): Promise<void> {
  const history = state.history;
  await catalog.train.checkpoint.save(writer, await encodeCheckpoint(ckpt));
  // reward and dev_cider: self-critical epochs only (NaN on cross-entropy ones)
  await catalog.train.trainingLog.save(writer, history.map((h) => ({ ...h, reward: h.reward ?? NaN, dev_cider: h.dev_cider ?? NaN })));
  await catalog.train.lossCurve.save(writer, lossCurveSvg(history, title));
}

function commit(writer: ArtifactWriter, params: TrainParams, upstream: Record<string, string>, inputs: Inputs, state: TrainState): Promise<Manifest> {
  const { history } = state;
  const best = history.find((h) => h.epoch === state.bestEpoch) ?? history.at(-1)!;
  return writer.commit({
    kind: catalog.train.kind,
    schemaVersion: TRAIN_SCHEMA_VERSION,
    stage: 'train',
    createdBy: '@caption/train@0.1.0',
    params,
    upstream,
    rows: { train_images: inputs.data.train.length, dev_images: inputs.data.dev.length, epochs: history.length, steps: state.step },
    extra: { backend: inputs.backend, bestEpoch: best.epoch, bestDevLoss: best.dev_loss, finalLoss: history.at(-1)!.loss },
  });
}

function groupByImage(rows: TokenRow[], split: string, store: FeatureStore): ImageCaptions[] {
  const byImage = new Map<string, Int32Array[]>();
  for (const r of rows) {
    if (r.split !== split || !store.has(r.image_id)) continue;
    const list = byImage.get(r.image_id) ?? [];
    list.push(Int32Array.from(r.token_ids));
    byImage.set(r.image_id, list);
  }
  return [...byImage].sort(([a], [b]) => (a < b ? -1 : 1)).map(([imageId, captions]) => ({ imageId, captions }));
}
