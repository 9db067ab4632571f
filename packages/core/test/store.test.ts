/**
 * The content-addressed store in a directory: objects by sha256, verified on the way in and out, complete or
 * absent; refs; and artifacts whose large files Turbo did not restore getting them back by hash.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { ArtifactWriter, DirStore, S3Store, openArtifact, restoreFromStore, sha256, type ContentStore } from '../src/index.ts';

let tmp: string;
let store: DirStore;
let s3server: S3rver;
let s3: S3Store;
const S3_ENV = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' }; // s3rver's fixed test credentials
before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'store-test-'));
  store = new DirStore(path.join(tmp, 'store'));
  Object.assign(process.env, S3_ENV);
  // s3rver: a small S3-protocol server meant for tests (no MinIO here), on a free loopback port
  s3server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: path.join(tmp, 's3rver'), configureBuckets: [{ name: 'caption', configs: [] }] });
  const { port } = await s3server.run() as unknown as { port: number };
  s3 = new S3Store('s3://caption/team/store', `http://127.0.0.1:${port}`);
});
after(async () => {
  await s3server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const entryOf = (bytes: Uint8Array) => ({ sha256: sha256(bytes), bytes: bytes.byteLength });

/** The same contract for both kinds of store; `damage` overwrites an object's bytes behind the store's back. */
const backends: [string, () => ContentStore, (sha: string, bytes: Uint8Array) => Promise<void>][] = [
  ['directory', () => store, async (sha, bytes) => writeFileSync(store.objectPath(sha), bytes)],
  ['s3 (s3rver)', () => s3, async (sha, bytes) => {
    const { S3Client, PutObjectCommand } = await import('@aws-sdk/client-s3');
    const client = new S3Client({ region: 'us-east-1', endpoint: (s3 as unknown as { endpoint: string }).endpoint, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
    await client.send(new PutObjectCommand({ Bucket: 'caption', Key: `team/store/sha256/${sha.slice(0, 2)}/${sha.slice(2)}`, Body: bytes }));
  }],
];

for (const [kind, open, damage] of backends) {
  test(`${kind} store: bytes in, the same bytes out by their hash; an absent hash is undefined; refs`, async () => {
    const st = open();
    const bytes = new TextEncoder().encode(`a feature shard in a ${kind}`);
    const entry = await st.putBytes(bytes);
    assert.deepEqual(entry, entryOf(bytes));
    assert.ok(await st.has(entry.sha256));
    assert.deepEqual(Buffer.from((await st.get(entry))!), Buffer.from(bytes));
    const absent = entryOf(new TextEncoder().encode('never stored'));
    assert.equal(await st.get(absent), undefined);
    assert.equal(await st.has(absent.sha256), false);
    assert.equal(await st.fetchTo(absent, path.join(tmp, 'absent.bin')), false);
    const fetched = path.join(tmp, `fetched-${kind}.bin`);
    assert.ok(await st.fetchTo(entry, fetched));
    assert.deepEqual(readFileSync(fetched), Buffer.from(bytes));
    assert.equal(await st.getRef('ns', `k-${kind}`), undefined);
    await st.putRef('ns', `k-${kind}`, { shard: 'x', images: 3 });
    assert.deepEqual(await st.getRef('ns', `k-${kind}`), { shard: 'x', images: 3 });
  });

  test(`${kind} store: a file whose bytes do not match the claimed hash is refused and nothing is stored`, async () => {
    const st = open();
    const file = path.join(tmp, 'claimed.bin');
    writeFileSync(file, 'these bytes');
    const wrong = entryOf(new TextEncoder().encode(`other bytes ${kind}`));
    await assert.rejects(st.putFile(file, wrong), /is 11 bytes with sha256 [0-9a-f]{64}, expected \d+ bytes with sha256 [0-9a-f]{64}/);
    assert.ok(!(await st.has(wrong.sha256)));
  });

  test(`${kind} store: an object damaged in the store is named on read and on fetch; the fetch target is not created`, async () => {
    const st = open();
    const bytes = new TextEncoder().encode(`to be damaged ${kind}`);
    const entry = await st.putBytes(bytes);
    await damage(entry.sha256, new TextEncoder().encode(`to be damaGed ${kind}`));
    await assert.rejects(st.get(entry), new RegExp(`content store: .*${entry.sha256.slice(2)} is ${bytes.length} bytes with sha256 [0-9a-f]{64}, expected ${bytes.length} bytes with sha256 ${entry.sha256}; delete that file`));
    const target = path.join(tmp, `damaged-${kind}.bin`);
    await assert.rejects(st.fetchTo(entry, target), /content store:/);
    assert.ok(!existsSync(target));
  });
}

test('directory store: a refused file leaves no temp file behind', async () => {
  const file = path.join(tmp, 'claimed2.bin');
  writeFileSync(file, 'some bytes');
  const wrong = entryOf(new TextEncoder().encode('not these'));
  await assert.rejects(store.putFile(file, wrong));
  const dir = path.join(tmp, 'store', 'sha256', wrong.sha256.slice(0, 2));
  assert.deepEqual(existsSync(dir) ? readdirSync(dir) : [], []);
});

test('s3 store: an unreachable endpoint is an error naming the store and the endpoint', async () => {
  const dead = new S3Store('s3://caption/x', 'http://127.0.0.1:9');
  await assert.rejects(dead.has('0'.repeat(64)), /content store s3:\/\/caption\/x: HEAD sha256\/00\/0+ failed: .*\(endpoint http:\/\/127\.0\.0\.1:9\)/);
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
