/**
 * The content-addressed store in a directory: objects by sha256, verified on the way in and out, complete or
 * absent; refs; and artifacts whose large files Turbo did not restore getting them back by hash.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ArtifactWriter, DirStore, openArtifact, restoreFromStore, sha256 } from '../src/index.ts';

let tmp: string;
let store: DirStore;
before(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'store-test-'));
  store = new DirStore(path.join(tmp, 'store'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

const entryOf = (bytes: Uint8Array) => ({ sha256: sha256(bytes), bytes: bytes.byteLength });

test('store: bytes in, the same bytes out by their hash; an absent hash is undefined', async () => {
  const bytes = new TextEncoder().encode('a feature shard');
  const entry = await store.putBytes(bytes);
  assert.deepEqual(entry, entryOf(bytes));
  assert.ok(await store.has(entry.sha256));
  assert.deepEqual(Buffer.from((await store.get(entry))!), Buffer.from(bytes));
  assert.equal(await store.get(entryOf(new TextEncoder().encode('never stored'))), undefined);
  assert.ok(existsSync(path.join(tmp, 'store', 'sha256', entry.sha256.slice(0, 2), entry.sha256.slice(2))));
});

test('store: a file whose bytes do not match the claimed hash is refused and leaves nothing behind', async () => {
  const file = path.join(tmp, 'claimed.bin');
  writeFileSync(file, 'these bytes');
  const wrong = entryOf(new TextEncoder().encode('other bytes'));
  await assert.rejects(store.putFile(file, wrong), /is 11 bytes with sha256 [0-9a-f]{64}, expected 11 bytes with sha256 [0-9a-f]{64}/);
  assert.ok(!(await store.has(wrong.sha256)));
  const dir = path.join(tmp, 'store', 'sha256', wrong.sha256.slice(0, 2));
  assert.deepEqual(existsSync(dir) ? readdirSync(dir) : [], [], 'no temp file left');
});

test('store: an object damaged in the store is named on read and on fetch, and the fetch target is not created', async () => {
  const bytes = new TextEncoder().encode('to be damaged');
  const entry = await store.putBytes(bytes);
  writeFileSync(store.objectPath(entry.sha256), 'to be damaGed');
  await assert.rejects(store.get(entry), new RegExp(`content store: .*${entry.sha256.slice(2)} is 13 bytes with sha256 [0-9a-f]{64}, expected 13 bytes with sha256 ${entry.sha256}; delete that file`));
  const target = path.join(tmp, 'fetched.bin');
  await assert.rejects(store.fetchTo(entry, target), /content store:/);
  assert.ok(!existsSync(target));
});

test('store: refs are JSON by namespace and key', async () => {
  assert.equal(await store.getRef('ns', 'k'), undefined);
  await store.putRef('ns', 'k', { shard: 'x', images: 3 });
  assert.deepEqual(await store.getRef('ns', 'k'), { shard: 'x', images: 3 });
});

test('an artifact missing a large file (a Turbo restore) gets it back from the store on open, verified', async () => {
  const dir = path.join(tmp, 'artifact');
  const w = await ArtifactWriter.open(dir);
  const shard = new Uint8Array(4096).map((_, i) => i % 251);
  await w.write('shards/shard-00000.arrow', shard);
  await w.write('small.json', '{}');
  const manifest = await w.commit({ kind: 'features', schemaVersion: 1, stage: 'features', createdBy: 't', params: {}, upstream: {}, rows: {} });
  process.env.CAPTION_STORE = path.join(tmp, 'store');
  try {
    await store.putFile(path.join(dir, 'shards/shard-00000.arrow'), manifest.files['shards/shard-00000.arrow']);
    rmSync(path.join(dir, 'shards'), { recursive: true });
    const artifact = await openArtifact(dir);
    assert.deepEqual(Buffer.from(await artifact.read('shards/shard-00000.arrow')), Buffer.from(shard));
    assert.deepEqual(await restoreFromStore(dir, manifest, store), { files: 0, bytes: 0 }, 'nothing left to fetch');
    // not in the store either: the read names both places
    rmSync(path.join(dir, 'shards'), { recursive: true });
    rmSync(store.objectPath(manifest.files['shards/shard-00000.arrow'].sha256));
    const again = await openArtifact(dir);
    await assert.rejects(again.read('shards/shard-00000.arrow'), /shard-00000\.arrow: missing \(listed in the manifest; not in the store .*store either\)/);
    assert.equal(readFileSync(path.join(dir, 'small.json'), 'utf8'), '{}');
  } finally {
    delete process.env.CAPTION_STORE;
  }
});
