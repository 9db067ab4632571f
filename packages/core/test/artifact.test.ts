import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PipelineError } from '../src/errors.ts';
import { openArtifact } from '../src/io/artifact.ts';
import { ArtifactWriter } from '../src/io/artifact-writer.ts';
import type { Manifest, ManifestDraft } from '../src/io/manifest.ts';

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'core-artifact-'));
  try {
    await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const draft = (kind = 'captions', extra: Partial<ManifestDraft> = {}): ManifestDraft => ({
  kind,
  schemaVersion: 1,
  stage: 'ingest',
  createdBy: '@caption/ingest@0.1.0',
  params: { split: { val: 0.2, seed: 1 } },
  upstream: {},
  rows: { captions: 3 },
  ...extra,
});
const hex = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
const readManifest = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
const siblings = (dir: string) => fs.readdirSync(path.dirname(dir)).filter((n) => n.startsWith(path.basename(dir))).sort();

test('commit: manifest.json lists sha256 + bytes of every file, nested dirs too, and the dir is renamed into place', async () => {
  await withTemp(async (root) => {
    const final = path.join(root, 'ingest');
    const w = await ArtifactWriter.open(final);
    assert.ok(!fs.existsSync(final), 'nothing at the final path before commit');
    const bin = Uint8Array.from([0, 1, 2, 255, 254]);
    await w.write('captions.parquet', bin);
    await w.write('sub/dir/deep.txt', 'deep text');
    fs.writeFileSync(w.path('streamed.json'), '{"x":1}'); // writers that stream to w.path() themselves
    const manifest = await w.commit(draft());

    assert.deepEqual(siblings(final), ['ingest'], 'no temp or old dirs left behind');
    assert.deepEqual(manifest.files, {
      'captions.parquet': { sha256: hex(bin), bytes: 5 },
      'streamed.json': { sha256: hex('{"x":1}'), bytes: 7 },
      'sub/dir/deep.txt': { sha256: hex('deep text'), bytes: 9 },
    });
    assert.deepEqual(Object.keys(manifest.files), ['captions.parquet', 'streamed.json', 'sub/dir/deep.txt']);
    assert.deepEqual(readManifest(final), manifest);
    assert.equal(manifest.kind, 'captions');
    assert.deepEqual(manifest.rows, { captions: 3 });
    assert.equal(fs.readFileSync(path.join(final, 'sub/dir/deep.txt'), 'utf8'), 'deep text');

    const art = await openArtifact(final, 'captions');
    assert.equal(art.dir, final);
    assert.deepEqual(art.manifest, manifest);
    assert.equal(art.manifestHash, hex(fs.readFileSync(path.join(final, 'manifest.json'))));
    assert.equal(art.file('sub/dir/deep.txt'), path.join(final, 'sub/dir/deep.txt'));
  });
});

test('an existing artifact is replaced only at commit; until then it is intact and readable', async () => {
  await withTemp(async (root) => {
    const final = path.join(root, 'features');
    const w1 = await ArtifactWriter.open(final);
    await w1.write('a.txt', 'v1');
    await w1.write('only-in-v1.txt', 'gone later');
    const m1 = await w1.commit(draft('features', { rows: { images: 1 } }));

    const w2 = await ArtifactWriter.open(final);
    await w2.write('a.txt', 'v2');
    await w2.write('new/b.txt', 'added');
    // mid-write: the old artifact is what readers see
    const during = await openArtifact(final, 'features');
    assert.deepEqual(during.manifest, m1);
    assert.equal(fs.readFileSync(during.file('a.txt'), 'utf8'), 'v1');
    assert.ok(fs.existsSync(during.file('only-in-v1.txt')));
    assert.ok(!fs.existsSync(path.join(final, 'new')));

    const m2 = await w2.commit(draft('features', { rows: { images: 2 } }));
    const after = await openArtifact(final, 'features');
    assert.deepEqual(after.manifest, m2);
    assert.notEqual(after.manifestHash, during.manifestHash);
    assert.equal(fs.readFileSync(after.file('a.txt'), 'utf8'), 'v2');
    assert.equal(fs.readFileSync(after.file('new/b.txt'), 'utf8'), 'added');
    assert.ok(!fs.existsSync(after.file('only-in-v1.txt')), 'files of the old artifact do not survive');
    assert.deepEqual(Object.keys(m2.files), ['a.txt', 'new/b.txt']);
    assert.deepEqual(siblings(final), ['features']);
  });
});

test('abort discards the new files and leaves the old artifact as it was', async () => {
  await withTemp(async (root) => {
    const final = path.join(root, 'tokenize');
    const w1 = await ArtifactWriter.open(final);
    await w1.write('vocab.json', '["a"]');
    await w1.commit(draft('tokens'));
    const before = fs.readFileSync(path.join(final, 'manifest.json'));

    const w2 = await ArtifactWriter.open(final);
    await w2.write('vocab.json', '["b"]');
    await w2.abort();
    assert.ok(!fs.existsSync(w2.tmpDir));
    assert.deepEqual(siblings(final), ['tokenize']);
    assert.deepEqual(fs.readFileSync(path.join(final, 'manifest.json')), before);
    assert.equal(fs.readFileSync(path.join(final, 'vocab.json'), 'utf8'), '["a"]');
  });
});

test('open clears a stale temp dir left by a crashed run', async () => {
  await withTemp(async (root) => {
    const final = path.join(root, 'train');
    fs.mkdirSync(`${final}.tmp-${process.pid}/junk`, { recursive: true });
    fs.writeFileSync(`${final}.tmp-${process.pid}/junk/stale.bin`, 'stale');
    const w = await ArtifactWriter.open(final);
    await w.write('model.json', '{}');
    const m = await w.commit(draft('checkpoint'));
    assert.deepEqual(Object.keys(m.files), ['model.json']);
    assert.ok(!fs.existsSync(path.join(final, 'junk')));
  });
});

test('manifest.json is byte-identical for identical content, whatever the write order or directory', async () => {
  await withTemp(async (root) => {
    const writeAll = async (final: string, order: string[]) => {
      const files: Record<string, string> = { 'z.txt': 'zz', 'a/b.txt': 'ab', 'm.bin': 'm'.repeat(1000) };
      const w = await ArtifactWriter.open(final);
      for (const name of order) await w.write(name, files[name]);
      // params with keys in a different order must not matter either
      const params = order[0] === 'z.txt' ? { b: 1, a: { y: 2, x: 1 } } : { a: { x: 1, y: 2 }, b: 1 };
      await w.commit(draft('captions', { params }));
      return fs.readFileSync(path.join(final, 'manifest.json'));
    };
    const first = await writeAll(path.join(root, 'one'), ['z.txt', 'a/b.txt', 'm.bin']);
    const second = await writeAll(path.join(root, 'two'), ['m.bin', 'a/b.txt', 'z.txt']);
    const again = await writeAll(path.join(root, 'one'), ['a/b.txt', 'z.txt', 'm.bin']);
    assert.deepEqual(second, first);
    assert.deepEqual(again, first);
    // and a one-byte change shows up
    const w = await ArtifactWriter.open(path.join(root, 'three'));
    for (const [n, d] of [['z.txt', 'zz'], ['a/b.txt', 'aB'], ['m.bin', 'm'.repeat(1000)]]) await w.write(n, d);
    await w.commit(draft('captions', { params: { a: { x: 1, y: 2 }, b: 1 } }));
    assert.notDeepEqual(fs.readFileSync(path.join(root, 'three', 'manifest.json')), first);
  });
});

test('openArtifact: a missing dir throws PipelineError(input) naming the dir', async () => {
  await withTemp(async (root) => {
    const missing = path.join(root, 'no-such-stage');
    await assert.rejects(openArtifact(missing), (err: unknown) => {
      assert.ok(err instanceof PipelineError);
      assert.equal(err.code, 'input');
      assert.ok(err.message.includes(missing), err.message);
      assert.match(err.message, /manifest\.json/);
      return true;
    });
    // a dir without a manifest (e.g. a half-written one) is just as missing
    fs.mkdirSync(path.join(root, 'empty'));
    await assert.rejects(openArtifact(path.join(root, 'empty')), { name: 'PipelineError', code: 'input' });
  });
});

test('openArtifact: a kind mismatch throws PipelineError(input) naming both kinds', async () => {
  await withTemp(async (root) => {
    const final = path.join(root, 'features');
    const w = await ArtifactWriter.open(final);
    await w.write('x', 'x');
    await w.commit(draft('features'));
    await assert.rejects(openArtifact(final, 'captions'), (err: unknown) => {
      assert.ok(err instanceof PipelineError);
      assert.equal(err.code, 'input');
      assert.match(err.message, /'features'/);
      assert.match(err.message, /'captions'/);
      assert.ok(err.message.includes(final));
      return true;
    });
    assert.equal((await openArtifact(final)).manifest.kind, 'features', 'no expected kind: anything goes');
  });
});
