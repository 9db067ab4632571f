/**
 * The features stage on real (generated) JPEGs through ONNX Runtime: shards + index, resume after kill -9,
 * incremental reuse of unchanged images, and a corrupt image reported without failing the run.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArtifactWriter, catalog, readFeatureShard, readParquetRows, sha256, type ImageRow, type Manifest } from '@caption/core';
import { runIngest, writeDemoDataset } from '../../ingest/src/index.ts';
import { runUntilFileThenKill } from '../../../test/helpers/kill.ts';
import { runFeatures } from '../src/stage.ts';
import type { FeaturesParams } from '../src/params.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
let tmp: string;
const params: FeaturesParams = { backbone: 'mobilenet_v2', weights: 'pretrained', engine: 'onnx', batchSize: 2, shardSize: 4, dtype: 'float16', concurrency: 2, reuse: true };
const run = (ingestDir: string, out: string, p: Partial<FeaturesParams> = {}) =>
  runFeatures({ pipeline: 't', seed: 1, params: { ...params, ...p } }, ingestDir, out);

async function ingest(dataDir: string, out: string) {
  const defaults = { demo: { images: 8, seed: 1 }, format: 'auto', lemmas: false, imageDir: '', splitMap: {}, splitFractions: { train: 0.8, dev: 0.1, test: 0.1 }, strict: false, concurrency: 4 } as const;
  return runIngest({ pipeline: 't', seed: 1, params: { ...defaults, dataset: dataDir } }, out);
}

const shardBytes = (dir: string) =>
  Object.fromEntries(readdirSync(path.join(dir, 'shards')).sort().map((f) => [f, readFileSync(path.join(dir, 'shards', f)).toString('base64')]));

function captureStderr<T>(fn: () => Promise<T>): Promise<{ value: T; text: string }> {
  const write = process.stderr.write.bind(process.stderr);
  let text = '';
  process.stderr.write = ((chunk: string | Uint8Array) => ((text += chunk.toString()), true)) as typeof process.stderr.write;
  return fn().then(
    (value) => ((process.stderr.write = write), { value, text }),
    (err) => ((process.stderr.write = write), Promise.reject(err)),
  );
}

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'features-stage-'));
  process.env.CAPTION_STORE = path.join(tmp, 'store'); // this test's own content store, not the checkout's
  await writeDemoDataset(path.join(tmp, 'data'), { seed: 5, images: 10 });
  await ingest(path.join(tmp, 'data'), path.join(tmp, 'ingest'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('features: shards of shardSize images with an index; rows match the images table', async () => {
  const m = await run(path.join(tmp, 'ingest'), path.join(tmp, 'full'));
  assert.equal(m.rows.images, 10);
  assert.equal(m.rows.shards, 3);
  const index = await readParquetRows<{ image_id: string; shard: string; row: number }>(path.join(tmp, 'full/shards/index.parquet'));
  const images = await readParquetRows<{ image_id: string }>(path.join(tmp, 'ingest/images.parquet'));
  assert.deepEqual(index.map((r) => r.image_id), images.map((r) => r.image_id));
  const shard = await readFeatureShard(path.join(tmp, 'full/shards/shard-00002.arrow'));
  assert.deepEqual(shard.shape, [49, 1280]);
  assert.equal(shard.imageIds.length, 2);
  assert.equal(shard.metadata.engine, 'onnxruntime-cpu');
  assert.ok(!existsSync(path.join(tmp, 'full.partial')), 'no partial dir left');
  // Deterministic: a second full run gives byte-identical shards.
  await run(path.join(tmp, 'ingest'), path.join(tmp, 'full2'), { reuse: false });
  assert.deepEqual(shardBytes(path.join(tmp, 'full2')), shardBytes(path.join(tmp, 'full')));
});

test('features: kill -9 during extraction, then resume -> byte-identical to an uninterrupted run', async () => {
  const out = path.join(tmp, 'killed');
  const script = path.join(tmp, 'child.mts');
  writeFileSync(script, `
    import { runFeatures } from ${JSON.stringify(path.join(here, '../src/stage.ts'))};
    await runFeatures({ pipeline: 't', seed: 1, params: ${JSON.stringify({ ...params, reuse: false })} }, ${JSON.stringify(path.join(tmp, 'ingest'))}, ${JSON.stringify(out)});
  `);
  const firstShard = path.join(`${out}.partial`, '.shards', 'shard-00000.arrow', '.unit.json'); // the first shard's unit is committed
  await runUntilFileThenKill(script, firstShard);
  assert.ok(!existsSync(path.join(out, 'manifest.json')), 'killed run must not have committed');

  const { text } = await captureStderr(() => run(path.join(tmp, 'ingest'), out, { reuse: false }));
  assert.match(text, /resuming an interrupted run/);
  assert.deepEqual(shardBytes(out), shardBytes(path.join(tmp, 'full')));
  assert.equal(readFileSync(path.join(out, 'manifest.json'), 'utf8'), readFileSync(path.join(tmp, 'full2/manifest.json'), 'utf8'));
});

test('features: one image added -> computes exactly 1, reuses the rest, same bytes as a full recompute', async () => {
  const data = path.join(tmp, 'data');
  const text = path.join(data, 'Flickr8k_text');
  const first = readFileSync(path.join(text, 'Flickr_8k.trainImages.txt'), 'utf8').split('\n')[0];
  const img = path.join(data, 'Flicker8k_Dataset');
  // A new image with new content: the first image re-encoded flipped.
  const sharp = (await import('sharp')).default;
  writeFileSync(path.join(img, 'zz_added.jpg'), await sharp(path.join(img, first)).flop().jpeg({ quality: 90 }).toBuffer());
  appendFileSync(path.join(text, 'Flickr8k.token.txt'), [0, 1, 2, 3, 4].map((n) => `zz_added.jpg#${n}\ta flipped copy ${n}\n`).join(''));
  await ingest(data, path.join(tmp, 'ingest2'));

  const out = path.join(tmp, 'incremental');
  await run(path.join(tmp, 'ingest'), out);
  const { value: m, text: log } = await captureStderr(() => run(path.join(tmp, 'ingest2'), out));
  assert.match(log, /reused 10, from the store 0, computed 1, failed 0/);
  assert.equal((m as Manifest).rows.images, 11);
  await run(path.join(tmp, 'ingest2'), path.join(tmp, 'scratch'), { reuse: false });
  assert.deepEqual(shardBytes(out), shardBytes(path.join(tmp, 'scratch')));
});

test('features: an image changed since ingest stops the stage naming it (its sha256 no longer matches images.parquet)', async () => {
  const data = path.join(tmp, 'data-changed');
  await writeDemoDataset(data, { seed: 6, images: 6 });
  await ingest(data, path.join(tmp, 'ingest-changed'));
  const victim = readdirSync(path.join(data, 'Flicker8k_Dataset')).sort()[2];
  writeFileSync(path.join(data, 'Flicker8k_Dataset', victim), Buffer.from('not a jpeg any more'));
  await assert.rejects(captureStderr(() => run(path.join(tmp, 'ingest-changed'), path.join(tmp, 'changed'))),
    new RegExp(`image changed since ingest: .*${victim.replace('.', '\\.')}: sha256 [0-9a-f]{64} != [0-9a-f]{64} \\(images\\.parquet\\)`));
  assert.ok(!existsSync(path.join(tmp, 'changed', 'manifest.json')));
});

test('features: an image that fails to decode, or is in an unsupported format, is reported in the manifest, not a crash', async () => {
  // an images table that lists a file which is not an image, and a GIF (ingest would have rejected both; features must cope)
  const data = path.join(tmp, 'data-bad');
  await writeDemoDataset(data, { seed: 6, images: 6 });
  const dir = path.join(tmp, 'ingest-bad');
  await ingest(data, dir);
  const images = await readParquetRows<ImageRow>(path.join(dir, 'images.parquet'));
  const bogus = Buffer.from('not an image at all');
  writeFileSync(path.join(data, 'Flicker8k_Dataset', 'zz_bogus.jpg'), bogus);
  const w = await ArtifactWriter.open(path.join(tmp, 'ingest-bogus'));
  await catalog.ingest.images.save(w, [...images,
    { ...images[0], image_id: 'zz_bogus.jpg', path: 'Flicker8k_Dataset/zz_bogus.jpg', sha256: sha256(bogus), bytes: bogus.length },
    { ...images[1], image_id: 'zz_anim.gif', format: 'gif' }]);
  await w.commit({ kind: catalog.ingest.kind, schemaVersion: 2, stage: 'ingest', createdBy: 'test', params: {}, upstream: {}, rows: {}, extra: { datasetRoot: data } });
  const { value: m } = await captureStderr(() => run(path.join(tmp, 'ingest-bogus'), path.join(tmp, 'bad')));
  assert.equal(m.rows.images, 6);
  assert.equal(m.rows.failed, 2);
  const failed = (m.extra?.failed ?? []) as { image_id: string; reason: string }[];
  assert.deepEqual(failed.map((f) => f.image_id), ['zz_anim.gif', 'zz_bogus.jpg']);
  assert.match(failed[0].reason, /^unsupported image format: gif \(supported: JPEG, PNG, WebP\)$/);
  assert.match(failed[1].reason, /decode failed/);
});
