/**
 * The catalog's datasets through real artifacts: what is saved loads back, and every read verifies — a
 * same-size corruption, a truncation or a missing file stops the read with the file's name and what to do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { catalog, openStage, type ImageRow } from '../src/catalog.ts';
import { ArtifactWriter } from '../src/io/artifact-writer.ts';
import { TableDataset } from '../src/io/datasets.ts';
import type { FeatureShard } from '../src/io/features.ts';
import type { ManifestDraft } from '../src/io/manifest.ts';

const draft = (kind: string): ManifestDraft => ({ kind, schemaVersion: 1, stage: 'ingest', createdBy: 'test', params: {}, upstream: {}, rows: {} });
const images: ImageRow[] = [
  { image_id: 'a.jpg', path: 'Images/a.jpg', split: 'train', sha256: 'ab'.repeat(32), width: 4, height: 3, format: 'jpeg', bytes: 2 ** 33, orientation: 6 },
  { image_id: 'b.png', path: 'Images/b.png', split: 'test', sha256: 'cd'.repeat(32), width: 1, height: 2, format: 'png', bytes: 3, orientation: 1 },
];
const CORRUPT = /^corrupt artifact: .*: (sha256 [0-9a-f]{64} != [0-9a-f]{64}|\d+ bytes != \d+|missing)[^;]*; `caption run` restores it from the Turbo cache or the content store; `caption run --force` recomputes it$/;

function withTemp(fn: (dir: string) => Promise<void>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'core-datasets-'));
  process.env.CAPTION_STORE = path.join(dir, 'store'); // shards go to a store: this test's own, not the checkout's
  return fn(dir).finally(() => (delete process.env.CAPTION_STORE, fs.rmSync(dir, { recursive: true, force: true })));
}

async function ingestArtifact(dir: string) {
  const w = await ArtifactWriter.open(dir);
  await catalog.ingest.images.save(w, images);
  await catalog.ingest.captions.save(w, [{ image_id: 'a.jpg', caption_index: 0, caption: 'a cat', split: 'train' }]);
  await w.commit(draft(catalog.ingest.kind));
  return openStage('ingest', dir);
}

test('TableDataset: rows saved into an artifact load back verified, with the schema\'s types', async () => {
  await withTemp(async (root) => {
    const art = await ingestArtifact(path.join(root, 'ingest'));
    assert.deepEqual(await catalog.ingest.images.load(art), images);
    const table = await catalog.ingest.images.loadTable(art);
    assert.equal(String(table.schema.fields.find((f) => f.name === 'bytes')!.type), 'Int64');
    assert.match(catalog.ingest.images.describe(), /^TableDataset\(images\.parquet: image_id utf8, path utf8, .*orientation int32\)$/);
  });
});

test('reads verify: same-size corruption, truncation and deletion are each refused naming the file', async () => {
  await withTemp(async (root) => {
    const dir = path.join(root, 'ingest');
    const art = await ingestArtifact(dir);
    const file = path.join(dir, 'images.parquet');
    const good = fs.readFileSync(file);
    const flipped = Buffer.from(good);
    flipped[Math.floor(flipped.length / 2)] ^= 0xff;
    for (const [what, bytes] of [['flipped byte', flipped], ['truncated', good.subarray(0, good.length - 10)]] as const) {
      fs.writeFileSync(file, bytes);
      await assert.rejects(catalog.ingest.images.load(art), (err: Error) => {
        assert.match(err.message, CORRUPT, what);
        assert.ok(err.message.includes(file), `${what}: names ${file}: ${err.message}`);
        return true;
      });
    }
    fs.rmSync(file);
    await assert.rejects(catalog.ingest.images.load(art), /corrupt artifact: .*images\.parquet: missing \(listed in the manifest[;)]/);
    fs.writeFileSync(file, good);
    assert.equal((await catalog.ingest.images.load(art)).length, 2, 'the original bytes read again');
    assert.deepEqual((await art.verify()).length, 0);
  });
});

test('a table without a column the schema needs is refused naming the column', async () => {
  await withTemp(async (root) => {
    const w = await ArtifactWriter.open(path.join(root, 'ingest'));
    await new TableDataset('images.parquet', { image_id: 'utf8' } as const).save(w, [{ image_id: 'a.jpg' }]);
    await w.commit(draft(catalog.ingest.kind));
    const art = await openStage('ingest', path.join(root, 'ingest'));
    await assert.rejects(catalog.ingest.images.load(art), /images\.parquet: no column path, split, sha256, width, height, format, bytes, orientation/);
  });
});

test('a file the manifest does not list is not read; a corrupt manifest is named as such', async () => {
  await withTemp(async (root) => {
    const dir = path.join(root, 'ingest');
    const art = await ingestArtifact(dir);
    await assert.rejects(catalog.ingest.rejects.load(art), /lists no file 'rejects\.parquet'/);
    fs.writeFileSync(path.join(dir, 'manifest.json'), '{"kind": "captions", "files": {');
    await assert.rejects(openStage('ingest', dir), /corrupt artifact: .*manifest\.json: not valid JSON/);
  });
});

const shard = (ids: string[], base: number): FeatureShard => ({
  imageIds: ids, sha256s: ids.map(() => '0'.repeat(64)), shape: [2, 3], dtype: 'float32',
  data: Float32Array.from({ length: ids.length * 6 }, (_, i) => base + i), metadata: { backbone: 'test' },
});

test('feature shards: units resume, finish places them; loadStore verifies every shard before returning', async () => {
  await withTemp(async (root) => {
    const dir = path.join(root, 'features');
    const shards = catalog.features.shards;
    const w = await ArtifactWriter.open(dir, { resumeKey: 'k' });
    await shards.saveUnit(w, 0, shard(['a', 'b'], 0), { images: ['a', 'b'], failed: [] });
    const again = await ArtifactWriter.open(dir, { resumeKey: 'k' });
    assert.deepEqual(await shards.loadUnit(again, 0), { images: ['a', 'b'], failed: [] });
    assert.equal(await shards.loadUnit(again, 1), undefined);
    await shards.saveUnit(again, 1, shard(['c'], 100), { images: ['c'], failed: [{ image_id: 'd', reason: 'decode failed' }] });
    await shards.finish(again, 2, [
      { image_id: 'a', sha256: '0', shard: shards.shardName(0), row: 0 }, { image_id: 'b', sha256: '0', shard: shards.shardName(0), row: 1 },
      { image_id: 'c', sha256: '0', shard: shards.shardName(1), row: 0 },
    ]);
    const m = await again.commit(draft(catalog.features.kind));
    assert.deepEqual(Object.keys(m.files), ['shards/index.parquet', 'shards/shard-00000.arrow', 'shards/shard-00001.arrow']);

    const art = await openStage('features', dir);
    const store = await shards.loadStore(art);
    assert.deepEqual(Array.from(store.batch(['c'])), [100, 101, 102, 103, 104, 105]);

    const file = art.file('shards/shard-00001.arrow');
    const good = fs.readFileSync(file);
    const flipped = Buffer.from(good);
    flipped[good.length - 20] ^= 0x01; // inside the values: still a valid Arrow file
    fs.writeFileSync(file, flipped);
    await assert.rejects(shards.loadStore(art), (err: Error) => (assert.match(err.message, CORRUPT), assert.ok(err.message.includes('shard-00001.arrow')), true));
    fs.writeFileSync(file, good.subarray(0, 100));
    await assert.rejects(shards.loadStore(art), /corrupt artifact: .*shard-00001\.arrow: 100 bytes != \d+ \(manifest\)/);
  });
});
