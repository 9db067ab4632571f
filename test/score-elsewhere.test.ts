/**
 * Scoring a trained checkpoint on another data set, through the pipeline (`train.checkpoint`): a checkpoint
 * trained on Flickr8k images (a small Flickr8k-layout subset of the real data set, assembled here) is scored on
 * the real COCO-format set `coco-mini-train2017` (80 images, 400 captions). That set's features come from the
 * backbone the checkpoint records; the imported checkpoint keeps its bytes; the features params cannot be
 * changed under it; a changed checkpoint re-keys the cache.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createWorkspace, type Workspace } from './helpers/workspace.ts';

const SHARED = process.env.CAPTION_SHARED;
const skip = SHARED ? false : 'CAPTION_SHARED is not set: scoring on another data set SKIPPED (needs $CAPTION_SHARED/datasets)';
if (skip) console.warn(`\n*** ${skip}\n`);

const TRAIN_ON_FLICKR = `name: flickr8k-subset
seed: 42
ingest: { dataset: data/flickr8k-subset, format: flickr8k }
features: { backbone: mobilenet_v2, cutLayer: block_14_expand_relu, batchSize: 16, shardSize: 16 }
tokenize: { vocabSize: 200, maxLength: 16 }
train: { decoder: attention-gru, epochs: 1, batchSize: 32, embedDim: 16, units: 16 }
evaluate: { split: test, maxLength: 16, samples: 1 }
`;

const SCORE_ON_COCO = `name: flickr8k-subset-on-coco
seed: 42
ingest: { dataset: "\${CAPTION_SHARED}/datasets/coco-mini-train2017", format: coco, splitMap: { train2017: test } }
train: { checkpoint: checkpoints/flickr8k-subset }
evaluate: { split: test, maxLength: 16, samples: 1 }
`;

/** A Flickr8k-layout data set of the first `n` official train, dev and test images with their captions. */
function flickrSubset(shared: string, out: string, n: number): void {
  const src = path.join(shared, 'datasets', 'flickr8k');
  const text = (f: string) => readFileSync(path.join(src, 'Flickr8k_text', f), 'utf8');
  mkdirSync(path.join(out, 'Flickr8k_text'), { recursive: true });
  mkdirSync(path.join(out, 'Flicker8k_Dataset'), { recursive: true });
  const keep = new Set<string>();
  for (const split of ['train', 'dev', 'test']) {
    const ids = text(`Flickr_8k.${split}Images.txt`).split('\n').filter(Boolean).slice(0, split === 'train' ? n : n / 4);
    ids.forEach((id) => keep.add(id));
    writeFileSync(path.join(out, 'Flickr8k_text', `Flickr_8k.${split}Images.txt`), ids.join('\n') + '\n');
  }
  const tokens = text('Flickr8k.token.txt').split('\n').filter((l) => keep.has(l.split('#')[0]));
  writeFileSync(path.join(out, 'Flickr8k_text', 'Flickr8k.token.txt'), tokens.join('\n') + '\n');
  for (const id of keep) cpSync(path.join(src, 'Flicker8k_Dataset', id), path.join(out, 'Flicker8k_Dataset', id));
}

describe('train.checkpoint: a Flickr8k-trained checkpoint scored on a COCO-format set', { skip }, () => {
  let ws: Workspace;
  const json = (rel: string) => JSON.parse(ws.readFile(rel));

  before(() => {
    ws = createWorkspace('caption-score-elsewhere-');
    flickrSubset(SHARED!, path.join(ws.dir, 'data', 'flickr8k-subset'), 40);
    ws.writeFile('pipelines/flickr8k-subset.yaml', TRAIN_ON_FLICKR);
    ws.caption(['run', 'pipelines/flickr8k-subset.yaml', '--quiet']);
    cpSync(path.join(ws.dir, 'artifacts', 'train'), path.join(ws.dir, 'checkpoints', 'flickr8k-subset'), { recursive: true });
  });
  after(() => ws?.remove());

  test('the COCO set is ingested, its features come from the checkpoint\'s backbone, and it is scored', () => {
    const trained = json('checkpoints/flickr8k-subset/checkpoint/model.json').extra;
    ws.writeFile('pipelines/on-coco.yaml', SCORE_ON_COCO);
    const r = ws.caption(['run', 'pipelines/on-coco.yaml']);
    assert.match(r.stdout + r.stderr, /BLEU-1\.\.4/);

    const ingest = json('artifacts/ingest/manifest.json');
    assert.equal(ingest.extra.format, 'coco');
    const features = json('artifacts/features/manifest.json');
    assert.deepEqual(features.params.cutLayer, 'block_14_expand_relu', 'features params taken from the checkpoint');
    assert.equal(features.extra.weights_sha256, trained.features.weights_sha256);
    assert.deepEqual(features.extra.shape, trained.features.shape);
    assert.equal(features.rows.images, 80);

    for (const f of ['model.json', 'weights.bin', 'vocabulary.json']) {
      assert.ok(readFileSync(path.join(ws.dir, 'artifacts/train/checkpoint', f)).equals(readFileSync(path.join(ws.dir, 'checkpoints/flickr8k-subset/checkpoint', f))), `${f} imported as is`);
    }
    const train = json('artifacts/train/manifest.json');
    assert.match(train.extra.imported.sha256, /^[0-9a-f]{64}$/);
    const report = json('artifacts/evaluate/report.json');
    assert.equal(report.images, 80);
    for (const b of report.bleu) assert.ok(b >= 0 && b <= 1, `BLEU ${b}`);
    assert.match(ws.readFile('artifacts/evaluate/report.md'), /BLEU/);
  });

  test('features params that contradict the checkpoint, or train params beside it, are refused', () => {
    ws.writeFile('pipelines/bad-backbone.yaml', SCORE_ON_COCO.replace('train:', 'features: { backbone: inception_v3 }\ntrain:'));
    const a = ws.caption(['resolve', 'pipelines/bad-backbone.yaml'], { allowFail: true });
    assert.notEqual(a.code, 0);
    assert.match(a.stderr, /features\.backbone is "inception_v3", but checkpoint checkpoints\/flickr8k-subset\/checkpoint was trained on features with backbone "mobilenet_v2"/);
    ws.writeFile('pipelines/bad-train.yaml', SCORE_ON_COCO.replace('train: { checkpoint', 'train: { epochs: 3, checkpoint'));
    const b = ws.caption(['resolve', 'pipelines/bad-train.yaml'], { allowFail: true });
    assert.match(b.stderr, /train\.checkpoint scores a trained checkpoint, so train\.epochs would be ignored/);
  });

  test('the checkpoint\'s content keys the train task: same bytes elsewhere, same key; a changed file is caught', () => {
    ws.caption(['resolve', 'pipelines/on-coco.yaml']);
    const key = json('.caption/params/train.json').inputs.checkpoint_sha256;
    cpSync(path.join(ws.dir, 'checkpoints/flickr8k-subset'), path.join(ws.dir, 'checkpoints/copy'), { recursive: true });
    ws.writeFile('pipelines/copy.yaml', SCORE_ON_COCO.replace('checkpoints/flickr8k-subset', 'checkpoints/copy/checkpoint'));
    ws.caption(['resolve', 'pipelines/copy.yaml']);
    assert.equal(json('.caption/params/train.json').inputs.checkpoint_sha256, key);

    const vocab = path.join(ws.dir, 'checkpoints/copy/checkpoint/vocabulary.json');
    writeFileSync(vocab, readFileSync(vocab, 'utf8').replace('"<pad>"', '"<PAD>"'));
    const r = ws.caption(['resolve', 'pipelines/copy.yaml'], { allowFail: true });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /corrupt artifact: .*vocabulary\.json/);
  });
});
