/**
 * The encoders beyond a frozen Keras backbone, end to end in a fresh workspace each: features from the CenterNet
 * graph-model backbone (its 8x8x120 grid), and MobileNetV2 block_10 features under an encoder head trained with
 * the decoder (`train.encoderHead`). `caption predict` on each checkpoint rebuilds the backbone (and runs the
 * head the checkpoint carries) and gives the evaluate stage's captions for the same images.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readParquetRows } from '../packages/core/src/index.ts';
import { createWorkspace, type Workspace } from './helpers/workspace.ts';

const pipeline = (name: string, features: string, train: string) => `name: ${name}
seed: 42
ingest: { dataset: demo, demo: { images: 100, seed: 7 } }
features: { ${features} }
tokenize: { vocabSize: 200, maxLength: 16 }
train: { decoder: transformer, epochs: 4, batchSize: 32, embedDim: 32, units: 64, heads: 2, learningRate: 0.005${train} }
evaluate: { split: test, maxLength: 24, samples: 2 }
`;
const IMAGES = 'artifacts/ingest/dataset/Flicker8k_Dataset';

/** predict on the first test images equals the evaluate stage's predictions; stderr names decoder and backbone. */
async function predictEqualsEvaluate(ws: Workspace, loaded: RegExp): Promise<void> {
  const rows = (await readParquetRows<{ image_id: string; caption: string }>(path.join(ws.dir, 'artifacts/evaluate/predictions.parquet'))).slice(0, 4);
  const files = rows.map((r) => `${IMAGES}/${r.image_id}`);
  assert.ok(rows.some((r) => r.caption !== ''), 'the model says something (else equality is vacuous)');
  const r = ws.caption(['predict', '--checkpoint', 'artifacts/train', ...files]);
  assert.match(r.stderr, loaded);
  assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.split('\t')), rows.map((row, i) => [files[i], row.caption]));
}

const extraOf = (ws: Workspace) => (JSON.parse(ws.readFile('artifacts/features/manifest.json')) as { extra: Record<string, unknown> }).extra;

/** A fresh workspace that has run `yaml` (removed after the suite). */
function ranWorkspace(prefix: string, yaml: string): () => Workspace {
  let ws: Workspace | undefined;
  before(() => {
    ws = createWorkspace(prefix);
    ws.writeFile('pipelines/p.yaml', yaml);
    ws.caption(['run', 'pipelines/p.yaml', '--quiet']);
  });
  after(() => ws?.remove());
  return () => ws!;
}

describe('centernet features', () => {
  const ws = ranWorkspace('caption-centernet-', pipeline('centernet', 'backbone: centernet, batchSize: 8', ''));

  test('[64, 120] per image; predict on the checkpoint gives the evaluate stage captions', async () => {
    assert.deepEqual([extraOf(ws()).backbone, extraOf(ws()).shape], ['centernet', [64, 120]]);
    await predictEqualsEvaluate(ws(), /loaded transformer \+ centernet on onnxruntime-cpu/);
  });
});

describe('an encoder head trained with the decoder', () => {
  const ws = ranWorkspace('caption-head-', pipeline('head', 'backbone: mobilenet_v2, cutLayer: block_10_project_BN, batchSize: 16', ', encoderHead: block_14_expand_relu'));

  test('block_10 features [196, 96]; the checkpoint carries the head; predict gives the evaluate stage captions', async () => {
    assert.deepEqual(extraOf(ws()).shape, [196, 96]);
    const model = JSON.parse(ws().readFile('artifacts/train/checkpoint/model.json')) as { config: { encoderHead?: { to: string; blocks: unknown[] } }; weightsManifest: { weights: { name: string }[] }[] };
    assert.equal(model.config.encoderHead?.to, 'block_14_expand_relu');
    assert.equal(model.config.encoderHead?.blocks.length, 4);
    assert.ok(model.weightsManifest[0].weights.some((w) => w.name === 'head/block_13/depthwise/kernel'));
    await predictEqualsEvaluate(ws(), /loaded transformer \+ mobilenet_v2 on onnxruntime-cpu/);
  });
});
