/**
 * Ingest of a real data directory through Turbo: the data set's content is a task input (via the
 * fingerprint in the params file), so an unchanged directory is a cache hit and one added image is a miss
 * whose new artifact differs from the old one by exactly that image's rows.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readParquetRows } from '../packages/core/src/index.ts';
import { writeDemoDataset } from '../packages/ingest/src/index.ts';
import { cacheStatus, createWorkspace, type Workspace } from './helpers/workspace.ts';

let ws: Workspace;
before(() => (ws = createWorkspace()));
after(() => ws?.remove());

const rows = async (file: string) =>
  (await readParquetRows<Record<string, unknown>>(path.join(ws.dir, 'artifacts/ingest', file))).map((r) => JSON.stringify(r));

function ingestThroughTurbo(): string {
  ws.caption(['resolve', 'pipelines/real.yaml']);
  const r = ws.turbo(['run', 'ingest', '--summarize']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return cacheStatus(ws.lastTurboSummary()).ingest;
}

test('ingest of a data directory: unchanged -> cache hit; one image added -> miss, and only its rows are new', async () => {
  const data = path.join(ws.dir, 'data', 'shapes'); // /data/ is git-ignored: a user's data, not the repo's
  await writeDemoDataset(data, { seed: 11, images: 24 });
  ws.writeFile('pipelines/real.yaml', 'name: real\ningest:\n  dataset: data/shapes\n');

  assert.equal(ingestThroughTurbo(), 'MISS');
  const before = { images: await rows('images.parquet'), captions: await rows('captions.parquet') };
  assert.equal(ingestThroughTurbo(), 'HIT');

  // Add one image: a copy of an existing JPEG under a new name, five captions, listed in the train split.
  const text = path.join(data, 'Flickr8k_text');
  const first = readFileSync(path.join(text, 'Flickr_8k.trainImages.txt'), 'utf8').split('\n')[0];
  copyFileSync(path.join(data, 'Flicker8k_Dataset', first), path.join(data, 'Flicker8k_Dataset', 'added.jpg'));
  appendFileSync(path.join(text, 'Flickr8k.token.txt'), [0, 1, 2, 3, 4].map((n) => `added.jpg#${n}\tan added image number ${n}\n`).join(''));
  appendFileSync(path.join(text, 'Flickr_8k.trainImages.txt'), 'added.jpg\n');

  assert.equal(ingestThroughTurbo(), 'MISS');
  const after = { images: await rows('images.parquet'), captions: await rows('captions.parquet') };
  for (const table of ['images', 'captions'] as const) {
    const added = after[table].filter((r) => !before[table].includes(r));
    const removed = before[table].filter((r) => !after[table].includes(r));
    assert.deepEqual(removed, [], `${table}: rows disappeared`);
    assert.ok(added.length > 0 && added.every((r) => JSON.parse(r).image_id === 'added.jpg'), `${table}: unexpected new rows ${added}`);
    assert.equal(added.length, table === 'images' ? 1 : 5);
  }
});
