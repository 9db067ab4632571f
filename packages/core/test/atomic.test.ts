/**
 * Atomic commits: a process killed (SIGKILL, through a failpoint) at each step of committing an artifact or a
 * unit leaves either the old version or the new one, and the next writer recovers it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openArtifact } from '../src/io/artifact.ts';
import { ArtifactWriter } from '../src/io/artifact-writer.ts';
import { writeFileAtomic } from '../src/io/atomic.ts';
import type { ManifestDraft } from '../src/io/manifest.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const draft: ManifestDraft = { kind: 'test', schemaVersion: 1, stage: 'ingest', createdBy: 'test', params: {}, upstream: {}, rows: {} };

function withTemp(fn: (dir: string) => Promise<void>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'core-atomic-'));
  return fn(dir).finally(() => fs.rmSync(dir, { recursive: true, force: true }));
}

/** Run `body` (TypeScript, with ArtifactWriter in scope) in a child that has CAPTION_FAILPOINT set; returns its signal. */
function runChild(dir: string, failpoint: string, body: string): string | null {
  const script = path.join(dir, `child-${failpoint.replace(/[^a-z0-9]/gi, '_')}.mts`);
  fs.writeFileSync(script, `import { ArtifactWriter } from ${JSON.stringify(path.join(here, '../src/io/artifact-writer.ts'))};\n${body}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, CAPTION_FAILPOINT: failpoint }, encoding: 'utf8' });
  assert.ok(r.signal === 'SIGKILL' || r.status === 0, r.stderr);
  return r.signal;
}

const commitV2 = (final: string) => `
  const w = await ArtifactWriter.open(${JSON.stringify(final)});
  await w.write('a.txt', 'v2');
  await w.write('b.txt', 'v2 only');
  await w.commit({ kind: 'test', schemaVersion: 1, stage: 'ingest', createdBy: 'test', params: {}, upstream: {}, rows: { v: 2 } });`;

test('artifact commit: a kill before, between or after the renames leaves v1 or v2 whole; the next writer recovers', async () => {
  await withTemp(async (root) => {
    for (const [point, expect] of [['commit:art:written', 1], ['commit:art:swapping', 1], ['never', 2]] as const) {
      const final = path.join(root, point.replace(/:/g, '_'), 'art');
      const w1 = await ArtifactWriter.open(final);
      await w1.write('a.txt', 'v1');
      await w1.commit({ ...draft, rows: { v: 1 } });

      const signal = runChild(root, point, commitV2(final));
      assert.equal(signal, point === 'never' ? null : 'SIGKILL');
      if (point === 'commit:art:swapping') assert.ok(!fs.existsSync(final), 'killed between the renames: the final name is briefly absent');
      // the next writer (any stage run) puts the last committed version back before anything else
      await (await ArtifactWriter.open(final)).abort();
      const art = await openArtifact(final);
      assert.equal(art.manifest.rows.v, expect, point);
      assert.deepEqual(await art.verify(), [], `${point}: every file matches the manifest`);
      assert.equal(await art.readText('a.txt'), `v${expect}`);
      const leftovers = fs.readdirSync(path.dirname(final)).filter((n) => n !== 'art');
      assert.deepEqual(leftovers, [], `${point}: no temp or old directories left`);
    }
  });
});

test('commitUnit: a unit killed before its rename does not exist on resume; committed units read back verified', async () => {
  await withTemp(async (root) => {
    const final = path.join(root, 'train');
    const body = `
      const w = await ArtifactWriter.open(${JSON.stringify(final)}, { resumeKey: 'k' });
      await w.commitUnit('.epochs/epoch-1', { 'weights.bin': new Uint8Array([1, 2, 3]), 'state.json': '{"epoch":1}' });
      await w.commitUnit('.epochs/epoch-2', { 'weights.bin': new Uint8Array([4, 5, 6]), 'state.json': '{"epoch":2}' });`;
    assert.equal(runChild(root, 'commit:epoch-2:written', body), 'SIGKILL');
    const w = await ArtifactWriter.open(final, { resumeKey: 'k' });
    assert.ok(w.resumed);
    assert.deepEqual(await w.listUnits('.epochs'), ['epoch-1'], 'only the committed unit; the cut-off one is gone');
    assert.deepEqual(fs.readdirSync(w.path('.epochs')), ['epoch-1'], 'its temp dir was removed too');
    const unit = (await w.readUnit('.epochs/epoch-1'))!;
    assert.deepEqual(unit.files, ['state.json', 'weights.bin']);
    assert.deepEqual([...(await unit.read('weights.bin'))], [1, 2, 3]);

    // a unit file changed on disk is refused by name
    fs.writeFileSync(w.path('.epochs/epoch-1/weights.bin'), new Uint8Array([1, 2, 4]));
    await assert.rejects(unit.read('weights.bin'), /corrupt artifact: .*epoch-1\/weights\.bin: sha256 [0-9a-f]{64} != [0-9a-f]{64}/);
    assert.equal(await w.readUnit('.epochs/epoch-9'), undefined);
  });
});

test('writeFileAtomic: the file is whole or absent, no temp file left', async () => {
  await withTemp(async (dir) => {
    const file = path.join(dir, 'sub', 'x.json');
    await writeFileAtomic(file, '{"a":1}');
    await writeFileAtomic(file, '{"a":2}');
    assert.equal(fs.readFileSync(file, 'utf8'), '{"a":2}');
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['x.json']);
  });
});

test('ArtifactWriter.open removes temp dirs of dead processes, not of live ones', async () => {
  await withTemp(async (root) => {
    const final = path.join(root, 'features');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    fs.mkdirSync(`${final}.tmp-${dead.stdout}/x`, { recursive: true });
    fs.mkdirSync(`${final}.tmp-${process.ppid}`, { recursive: true }); // a live process (the test runner)
    const w = await ArtifactWriter.open(final);
    await w.abort();
    assert.deepEqual(fs.readdirSync(root).sort(), [`features.tmp-${process.ppid}`]);
  });
});
