/**
 * The artifact catalog: every file a stage writes or reads, by artifact, with its schema, in one place. Stages
 * meet only through these datasets: `catalog.ingest.captions.load(artifact)` reads and verifies,
 * `catalog.tokenize.tokens.save(writer, rows)` writes into an atomically committed artifact.
 */
import { openArtifact, type Artifact } from './io/artifact.ts';
import { CheckpointDataset } from './io/checkpoint.ts';
import { JsonDataset, TableDataset, TextDataset, type RowOf } from './io/datasets.ts';
import { FeatureShardsDataset } from './io/feature-shards.ts';
import { artifactDir, type StageName } from './paths.ts';

export const IMAGES = {
  image_id: 'utf8',      // image file name (Flickr) or path below the data set root (COCO/Karpathy)
  path: 'utf8',          // relative to the data set root
  split: 'utf8',         // train | dev | test | none
  sha256: 'utf8',        // of the file's bytes; features checks the bytes it decodes against it
  width: 'int32',
  height: 'int32',
  format: 'utf8',        // as sharp reports it: jpeg, png, webp
  bytes: 'int64',
  orientation: 'int32',  // EXIF orientation 1-8 (1 when absent); features auto-rotates by it
} as const;

export const CAPTIONS = {
  image_id: 'utf8',
  caption_index: 'int32', // the caption's number for its image (#n, or position in the file)
  caption: 'utf8',        // raw caption text (tokenize normalises it)
  split: 'utf8',
} as const;

export const REJECTS = {
  source: 'utf8',         // file the record came from, relative to the data set root
  record: 'int32',        // 1-based line (or record) number in that file; 0 for a whole file
  raw: 'utf8',            // the record as read
  reason: 'utf8',         // one of a fixed set of reasons (counted per reason in the manifest)
  detail: 'utf8',         // e.g. the decoder's message for a corrupt image; '' when none
} as const;

export const VOCABULARY = { id: 'int32', token: 'utf8', count: 'int64' } as const;

export const TOKENS = {
  image_id: 'utf8',
  caption_index: 'int32',
  split: 'utf8',
  token_ids: 'list<int32>', // [<start>, ..., <end>], at most max_length ids
} as const;

export const FEATURE_INDEX = { image_id: 'utf8', sha256: 'utf8', shard: 'utf8', row: 'int32' } as const;

export const TRAINING_LOG = {
  epoch: 'int32',
  step: 'int32',          // optimizer steps so far
  loss: 'float64',        // mean train loss over the epoch
  dev_loss: 'float64',
  lr: 'float64',
  reward: 'float64',      // self-critical epochs: mean sampled CIDEr-D (NaN otherwise)
  dev_cider: 'float64',   // self-critical epochs: greedy dev CIDEr-D (NaN otherwise)
} as const;

export const PREDICTIONS = { image_id: 'utf8', caption: 'utf8' } as const;

export const SCORES = {
  image_id: 'utf8', bleu1: 'float64', bleu2: 'float64', bleu3: 'float64', bleu4: 'float64', ciderD: 'float64', rougeL: 'float64',
} as const;

export type ImageRow = RowOf<typeof IMAGES>;
export type CaptionRow = RowOf<typeof CAPTIONS>;
export type RejectRow = RowOf<typeof REJECTS>;
export type VocabularyRow = RowOf<typeof VOCABULARY>;
export type TokenRow = RowOf<typeof TOKENS>;
export type FeatureIndexRow = RowOf<typeof FEATURE_INDEX>;
export type TrainingLogRow = RowOf<typeof TRAINING_LOG>;
export type PredictionRow = RowOf<typeof PREDICTIONS>;
export type ScoreRow = RowOf<typeof SCORES>;

export const catalog = {
  ingest: {
    kind: 'captions',
    images: new TableDataset('images.parquet', IMAGES),
    captions: new TableDataset('captions.parquet', CAPTIONS),
    rejects: new TableDataset('rejects.parquet', REJECTS),
    demoDataset: 'dataset',  // the generated demo data set lives inside the artifact (extra.datasetRoot './dataset')
  },
  features: {
    kind: 'features',
    shards: new FeatureShardsDataset('shards', FEATURE_INDEX),
  },
  tokenize: {
    kind: 'tokens',
    vocabulary: new TableDataset('vocabulary.parquet', VOCABULARY),
    tokens: new TableDataset('tokens.parquet', TOKENS),
  },
  train: {
    kind: 'checkpoint',
    checkpoint: new CheckpointDataset('checkpoint'),
    trainingLog: new TableDataset('training-log.parquet', TRAINING_LOG),
    lossCurve: new TextDataset('loss-curve.svg'),
  },
  evaluate: {
    kind: 'report',
    report: new JsonDataset<Record<string, unknown>>('report.json'),
    markdown: new TextDataset('report.md'),
    html: new TextDataset('report.html'),
    predictions: new TableDataset('predictions.parquet', PREDICTIONS),
    scores: new TableDataset('scores.parquet', SCORES),
  },
} as const satisfies Record<StageName, { kind: string } & Record<string, unknown>>;

/** A stage's artifact, opened (manifest read, kind checked) for verified reads through its datasets. */
export function openStage(stage: StageName, dir = artifactDir(stage)): Promise<Artifact> {
  return openArtifact(dir, catalog[stage].kind);
}
