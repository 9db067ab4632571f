import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, truncate, unlink, writeFile, appendFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ParquetDataset, PipelineError, tableRows } from '@caption/core';
import { DEMO_IMAGE_DIR, DEMO_TEXT_DIR, DEMO_TOKEN_FILE, planDemoScenes, writeDemoDataset } from '../src/demo/generate.ts';
import type { IngestParams } from '../src/params.ts';
import type { CaptionRow, ImageRow, RejectRow } from '../src/rows.ts';
import { runIngest } from '../src/stage.ts';

const DEMO = { seed: 1, images: 12 };
const TOKENS = `${DEMO_TEXT_DIR}/${DEMO_TOKEN_FILE}`;
const params = (dataset: string, strict = false): IngestParams => ({
  dataset, demo: { images: 12, seed: 1 }, format: 'auto', strict, concurrency: 4,
});
const stageFile = (dataset: string, strict = false) => ({ pipeline: 't', seed: 1, params: params(dataset, strict) });

async function readTable<T>(dir: string, name: string): Promise<T[]> {
  return tableRows<T>(await new ParquetDataset(path.join(dir, name)).load());
}

async function rejectsCode(fn: () => Promise<unknown>, code: string, message: RegExp) {
  await assert.rejects(fn, (err: unknown) => {
    assert.ok(err instanceof PipelineError, `expected a PipelineError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

test('ingest stage on a damaged demo data set: each damage is a reject with a clear reason, the rest is kept', async () => {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'ingest-stage-'));
  try {
    const data = path.join(tmp, 'data');
    await writeDemoDataset(data, DEMO);
    const scenes = planDemoScenes(DEMO);
    const ids = scenes.map((s) => s.imageId);
    const img = (id: string) => path.join(data, DEMO_IMAGE_DIR, id);
    const [deleted, truncated, empty] = [ids[0], ids[5], ids[10]];

    await unlink(img(deleted));
    await truncate(img(truncated), Math.floor((await stat(img(truncated))).size / 2));
    await writeFile(img(empty), new Uint8Array(0));
    await copyFile(img(ids[1]), img('extra_copy.jpg'));
    await appendFile(path.join(data, TOKENS), 'this line has no tab\n');

    const out = path.join(tmp, 'out');
    const manifest = await runIngest(stageFile(data), out);

    const rejects = await readTable<RejectRow>(out, 'rejects.parquet');
    const captions = await readTable<CaptionRow>(out, 'captions.parquet');
    const images = await readTable<ImageRow>(out, 'images.parquet');

    // the token file: 60 demo lines, then the bad one on line 61
    const byImage = (id: string) => rejects.filter((r) => r.raw.startsWith(`${id}#`));
    for (const [id, reason] of [[deleted, /^image file missing$/], [truncated, /^corrupt or unsupported image: VipsJpeg: premature end of JPEG image$/], [empty, /^zero-byte image file$/]] as const) {
      const rs = byImage(id);
      const k = ids.indexOf(id);
      assert.deepEqual(rs.map((r) => r.record), [1, 2, 3, 4, 5].map((n) => k * 5 + n), `records of ${id}`);
      for (const r of rs) {
        assert.equal(r.source, TOKENS);
        assert.match(r.reason, reason, `${id}: ${r.reason}`);
      }
    }
    assert.deepEqual(
      rejects.filter((r) => r.reason === 'line without tab').map((r) => [r.source, r.record, r.raw]),
      [[TOKENS, 61, 'this line has no tab']],
    );
    assert.deepEqual(
      rejects.filter((r) => r.reason === 'image with no caption').map((r) => [r.source, r.record, r.raw]),
      [[`${DEMO_IMAGE_DIR}/extra_copy.jpg`, 0, 'extra_copy.jpg']],
    );
    assert.equal(rejects.length, 5 * 3 + 1 + 1, JSON.stringify(rejects.map((r) => r.reason)));

    // every other caption is kept, text unchanged
    const damaged = new Set([deleted, truncated, empty]);
    const expected = scenes
      .filter((s) => !damaged.has(s.imageId))
      .flatMap((s) => s.captions.map((caption, i) => `${s.imageId}#${i}\t${caption}`))
      .sort();
    assert.deepEqual(captions.map((c) => `${c.image_id}#${c.caption_index}\t${c.caption}`).sort(), expected);
    assert.deepEqual(images.map((i) => i.image_id), ids.filter((id) => !damaged.has(id)).sort());
    for (const i of images) {
      assert.equal(i.path, `${DEMO_IMAGE_DIR}/${i.image_id}`);
      assert.deepEqual([i.width, i.height, i.format], [224, 224, 'jpeg']);
      assert.equal(i.bytes, (await readFile(img(i.image_id))).length);
      assert.match(i.sha256, /^[0-9a-f]{64}$/);
      assert.ok(['train', 'dev', 'test'].includes(i.split), i.split);
    }
    assert.equal(new Set(images.map((i) => i.sha256)).size, images.length);

    assert.equal(manifest.rows.records_read, 61);
    assert.equal(manifest.rows.captions_kept, 45);
    assert.equal(manifest.rows.captions_rejected, 16);
    assert.equal(manifest.rows.images, 9);
    assert.equal(manifest.rows.images_train + manifest.rows.images_dev + manifest.rows.images_test, 9);
    assert.equal(manifest.extra?.datasetRoot, data);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

test('ingest stage: strict mode turns any reject into a data error; a missing token file is an input error', async () => {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'ingest-strict-'));
  try {
    const data = path.join(tmp, 'data');
    await writeDemoDataset(data, { seed: 2, images: 8 });
    // clean data passes strict
    const clean = await runIngest(stageFile(data, true), path.join(tmp, 'clean'));
    assert.equal(clean.rows.captions_rejected, 0);
    assert.equal(clean.rows.captions_kept, 40);

    await appendFile(path.join(data, TOKENS), 'no tab\n');
    const out = path.join(tmp, 'strict');
    await rejectsCode(() => runIngest(stageFile(data, true), out), 'data', /strict ingest: 1 rejected records[\s\S]*:41 line without tab/);
    assert.ok(!existsSync(path.join(out, 'captions.parquet')), 'strict failure must not publish an artifact');
    // the same data is fine when not strict
    const lax = await runIngest(stageFile(data, false), path.join(tmp, 'lax'));
    assert.equal(lax.rows.captions_rejected, 1);

    const empty = path.join(tmp, 'nothing');
    await mkdir(path.join(empty, DEMO_IMAGE_DIR), { recursive: true });
    await rejectsCode(
      () => runIngest(stageFile(empty), path.join(tmp, 'out-empty')),
      'input',
      new RegExp(`no captions found in .*nothing: looked for ${TOKENS.replace(/\./g, '\\.')}`),
    );
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});
