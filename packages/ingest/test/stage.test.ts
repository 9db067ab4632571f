import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEMO_IMAGE_DIR, DEMO_SPLIT_FILES, DEMO_TEXT_DIR, DEMO_TOKEN_FILE, planDemoScenes, writeDemoDataset } from '../src/demo/generate.ts';
import type { RejectRow } from '../src/rows.ts';
import { runIngest } from '../src/stage.ts';
import {
  assertCountsAddUp, bmpBytes, expectPipelineError, ingest, makeImage, randomBytes, stageFile, tokenLines, truncateJpeg,
  withTmp, writeFiles, type IngestResult,
} from './fixtures.ts';

const TOKENS = 'Flickr8k_text/Flickr8k.token.txt';
const TRAIN = 'Flickr8k_text/Flickr_8k.trainImages.txt';
const IMG = 'Flicker8k_Dataset';
const enc = (s: string) => new TextEncoder().encode(s);

// ---- one fixture per kind of bad input ----

/** A clean Flickr8k-layout set: 4 images x 2 captions (token lines 1-8), train a b / dev c / test d. */
async function writeBase(root: string) {
  const captions = { 'a.jpg': ['a dog runs', 'a brown dog'], 'b.jpg': ['a cat sits', 'a grey cat'], 'c.jpg': ['a bird', 'a bird flies'], 'd.jpg': ['a fish', 'a fish swims'] };
  await writeFiles(root, {
    [TOKENS]: tokenLines(captions).join('\n') + '\n',
    [TRAIN]: 'a.jpg\nb.jpg\n',
    'Flickr8k_text/Flickr_8k.devImages.txt': 'c.jpg\n',
    'Flickr8k_text/Flickr_8k.testImages.txt': 'd.jpg\n',
    ...Object.fromEntries(await Promise.all(Object.keys(captions).map(async (id, i) => [`${IMG}/${id}`, await makeImage(i, 'jpeg', 32)]))),
  });
}

const addTokens = (root: string, text: string | Uint8Array) => appendFile(path.join(root, TOKENS), text);
const reject = (record: number, raw: string, reason: string, detail = ''): RejectRow => ({ source: TOKENS, record, raw, reason, detail });
const UNSUPPORTED = 'Input buffer contains unsupported image format';

const badInputs: { name: string; damage: (root: string) => Promise<void>; rejects: RejectRow[]; kept: number; records: number }[] = [
  {
    name: 'missing image file',
    damage: (root) => addTokens(root, 'gone.jpg#0\tnot there\ngone.jpg#1\tstill not there\n'),
    rejects: [reject(9, 'gone.jpg#0\tnot there', 'image file missing'), reject(10, 'gone.jpg#1\tstill not there', 'image file missing')],
    kept: 8, records: 10,
  },
  {
    name: 'zero-byte image file',
    damage: async (root) => {
      await writeFile(path.join(root, IMG, 'empty.jpg'), new Uint8Array(0));
      await addTokens(root, 'empty.jpg#0\tnothing to see\n');
    },
    rejects: [reject(9, 'empty.jpg#0\tnothing to see', 'zero-byte image file')],
    kept: 8, records: 9,
  },
  {
    name: 'truncated JPEG',
    damage: async (root) => {
      const file = path.join(root, IMG, 'c.jpg');
      await writeFile(file, truncateJpeg(await readFile(file)));
    },
    rejects: [
      reject(5, 'c.jpg#0\ta bird', 'corrupt or truncated image', 'VipsJpeg: premature end of JPEG image'),
      reject(6, 'c.jpg#1\ta bird flies', 'corrupt or truncated image', 'VipsJpeg: premature end of JPEG image'),
    ],
    kept: 6, records: 8,
  },
  {
    name: 'unsupported format (a BMP, and random bytes, named .jpg)',
    damage: async (root) => {
      await writeFiles(root, { [`${IMG}/bitmap.jpg`]: bmpBytes(), [`${IMG}/noise.jpg`]: randomBytes() });
      await addTokens(root, 'bitmap.jpg#0\ta bitmap\nnoise.jpg#0\tnoise\n');
    },
    rejects: [
      reject(9, 'bitmap.jpg#0\ta bitmap', 'unsupported image format', 'bmp (supported: JPEG, PNG, WebP)'),
      reject(10, 'noise.jpg#0\tnoise', 'unsupported image format', UNSUPPORTED),
    ],
    kept: 8, records: 10,
  },
  {
    name: 'line without tab',
    damage: (root) => addTokens(root, 'a.jpg#2 a dog with no tab\n'),
    rejects: [reject(9, 'a.jpg#2 a dog with no tab', 'line without tab')],
    kept: 8, records: 9,
  },
  {
    name: 'caption id without #n',
    damage: (root) => addTokens(root, 'a.jpg\ta dog without a number\n'),
    rejects: [reject(9, 'a.jpg\ta dog without a number', 'caption id without #n')],
    kept: 8, records: 9,
  },
  {
    name: 'empty caption',
    damage: (root) => addTokens(root, 'a.jpg#2\t  \n'),
    rejects: [reject(9, 'a.jpg#2\t  ', 'empty caption')],
    kept: 8, records: 9,
  },
  {
    name: 'duplicate caption id',
    damage: (root) => addTokens(root, 'b.jpg#1\ta different grey cat\n'),
    rejects: [reject(9, 'b.jpg#1\ta different grey cat', 'duplicate caption id')],
    kept: 8, records: 9,
  },
  {
    name: 'non-UTF-8 bytes in a token line',
    damage: (root) => addTokens(root, Uint8Array.from([...enc('d.jpg#2\ta fish caf'), 0xff, ...enc('\n')])),
    rejects: [reject(9, 'd.jpg#2\ta fish caf\ufffd', 'non-UTF-8 bytes')],
    kept: 8, records: 9,
  },
  {
    name: 'image with no caption (a file in the image folder)',
    damage: (root) => copyFile(path.join(root, IMG, 'a.jpg'), path.join(root, IMG, 'z_extra.jpg')),
    rejects: [{ source: `${IMG}/z_extra.jpg`, record: 0, raw: `${IMG}/z_extra.jpg`, reason: 'image with no caption', detail: '' }],
    kept: 8, records: 8,
  },
  {
    name: 'split list naming an unknown image',
    damage: (root) => appendFile(path.join(root, TRAIN), 'ghost.jpg\n'),
    rejects: [{ source: TRAIN, record: 3, raw: 'ghost.jpg', reason: 'split list names an unknown image', detail: '' }],
    kept: 8, records: 8,
  },
  {
    name: 'image path that escapes the data directory',
    damage: async (root) => {
      // real images where a careless join would find them: next to the images folder, and outside the data set
      const jpeg = await readFile(path.join(root, IMG, 'a.jpg'));
      await writeFile(path.join(root, 'x.jpg'), jpeg);
      await writeFile(path.join(root, '..', 'x.jpg'), jpeg);
      await addTokens(root, '../x.jpg#0\tup one level\n/etc/passwd#0\tabsolute\n../../x.jpg#0\tup two levels\n');
    },
    rejects: [
      reject(9, '../x.jpg#0\tup one level', 'image path escapes the data directory'),
      reject(10, '/etc/passwd#0\tabsolute', 'image path escapes the data directory'),
      reject(11, '../../x.jpg#0\tup two levels', 'image path escapes the data directory'),
    ],
    kept: 8, records: 11,
  },
];

test('bad-input fixtures: the clean base set has no rejects (and passes strict)', async () => {
  await withTmp('base', async (tmp) => {
    const data = path.join(tmp, 'data');
    await writeBase(data);
    const r = await ingest(data, path.join(tmp, 'out'), { strict: true });
    assertCountsAddUp(r);
    assert.deepEqual(r.rejects, []);
    assert.deepEqual([r.manifest.rows.caption_records, r.manifest.rows.captions_kept, r.manifest.rows.images], [8, 8, 4]);
    assert.deepEqual(r.images.map((i) => [i.image_id, i.split]), [['a.jpg', 'train'], ['b.jpg', 'train'], ['c.jpg', 'dev'], ['d.jpg', 'test']]);
    assert.equal(r.manifest.extra?.datasetRoot, data);
  });
});

for (const c of badInputs) {
  test(`bad input: ${c.name} -> ${[...new Set(c.rejects.map((r) => `'${r.reason}'`))].join(', ')}`, async () => {
    await withTmp('bad', async (tmp) => {
      const data = path.join(tmp, 'data');
      await writeBase(data);
      await c.damage(data);
      const r = await ingest(data, path.join(tmp, 'out'));
      assert.deepEqual(r.rejects, c.rejects);
      assertCountsAddUp(r);
      assert.equal(r.manifest.rows.caption_records, c.records);
      assert.equal(r.manifest.rows.captions_kept, c.kept);
      for (const reason of new Set(c.rejects.map((x) => x.reason))) {
        assert.equal(r.manifest.rows[`rejected: ${reason}`], c.rejects.filter((x) => x.reason === reason).length);
      }
      // nothing rejected leaks into the kept tables
      const keptImages = new Set(r.images.map((i) => i.image_id));
      assert.ok(r.captions.every((x) => keptImages.has(x.image_id)));
      assert.equal(r.images.length, new Set(r.captions.map((x) => x.image_id)).size);
    });
  });
}

async function writeDamaged(root: string) {
  await writeBase(root);
  for (const c of badInputs) await c.damage(root);
}

test('strict: true turns the rejects into a data error listing them; no artifact is published', async () => {
  await withTmp('strict', async (tmp) => {
    const data = path.join(tmp, 'data');
    await writeDamaged(data);
    const out = path.join(tmp, 'out');
    const expected = badInputs.flatMap((c) => c.rejects);
    const err = await expectPipelineError(() => runIngest(stageFile(data, { strict: true }), out), 'data', `strict ingest: ${expected.length} rejected records`);
    for (const reason of new Set(expected.map((r) => r.reason))) assert.ok(err.message.includes(`${reason}:`), `lists '${reason}': ${err.message}`);
    assert.ok(err.message.includes(`${TOKENS}:9 image file missing: gone.jpg#0`), err.message);
    assert.ok(err.message.includes(`${TRAIN}:3 split list names an unknown image: ghost.jpg`), err.message);
    assert.ok(!existsSync(out), 'a strict failure must not publish an artifact');
    assert.deepEqual((await readdir(tmp)).sort(), ['data', 'x.jpg'], 'no temp dir left behind');

    // the same data, not strict: every reject of every fixture, counts add up
    const r = await ingest(data, out);
    assertCountsAddUp(r);
    assert.equal(r.rejects.length, expected.length);
    for (const reason of new Set(expected.map((x) => x.reason))) {
      assert.equal(r.manifest.rows[`rejected: ${reason}`], expected.filter((x) => x.reason === reason).length, reason);
    }
    assert.equal(r.manifest.rows.captions_kept, 6); // only c.jpg (truncated) lost captions of the base set
  });
});

test('a directory with no caption files fails with an input error listing what was looked for', async () => {
  await withTmp('empty', async (tmp) => {
    const data = path.join(tmp, 'data');
    await writeFiles(data, { [`${IMG}/a.jpg`]: await makeImage(1, 'jpeg', 16), 'readme.txt': 'hello\n' });
    const out = path.join(tmp, 'out');
    await expectPipelineError(() => runIngest(stageFile(data), out), 'input',
      `no caption files found in ${data}: looked for`, 'Flickr8k.token.txt', 'captions_*.json', 'dataset_*.json', 'results_20130124.token', 'captions.txt');
    await expectPipelineError(() => runIngest(stageFile(path.join(tmp, 'nope')), out), 'input', 'data set directory not found');
    // a token file with no records at all is an input error too, not an empty artifact
    await writeFiles(data, { [TOKENS]: '\n\n  \n' });
    await expectPipelineError(() => runIngest(stageFile(data), out), 'input', 'flickr8k: no caption records');
    assert.ok(!existsSync(out));
  });
});

// ---- rerun determinism ----

const rowSet = (rows: object[]) => new Set(rows.map((r) => JSON.stringify(r)));

test('rerun determinism: byte-identical manifests; one added image adds exactly its rows', async () => {
  await withTmp('rerun', async (tmp) => {
    const data = path.join(tmp, 'data');
    const opts = { seed: 3, images: 10 };
    await writeDemoDataset(data, opts);
    const ids = planDemoScenes(opts).map((s) => s.imageId);
    // some rejects too, so "rejects unchanged" means something
    await appendFile(path.join(data, DEMO_TEXT_DIR, DEMO_TOKEN_FILE), 'this line has no tab\n');
    await copyFile(path.join(data, DEMO_IMAGE_DIR, ids[2]), path.join(data, DEMO_IMAGE_DIR, 'unlisted.jpg'));

    const first = await ingest(data, path.join(tmp, 'out1'));
    const second = await ingest(data, path.join(tmp, 'out2'));
    const m1 = await readFile(path.join(tmp, 'out1', 'manifest.json'));
    assert.ok(m1.equals(await readFile(path.join(tmp, 'out2', 'manifest.json'))), 'manifest.json differs between identical runs');
    for (const f of ['images.parquet', 'captions.parquet', 'rejects.parquet']) {
      assert.ok((await readFile(path.join(tmp, 'out1', f))).equals(await readFile(path.join(tmp, 'out2', f))), f);
    }
    assert.deepEqual(second, first);
    assert.equal(first.rejects.length, 2);
    assert.equal(first.images.length, 10);

    // add one image: a copy of a JPEG under a new name, its 5 token lines, and a place in the train list
    const added = '9999999999_added.jpg';
    await copyFile(path.join(data, DEMO_IMAGE_DIR, ids[0]), path.join(data, DEMO_IMAGE_DIR, added));
    const newCaptions = ['an added image', 'one more caption', 'a third', 'a fourth', 'the fifth'];
    await appendFile(path.join(data, DEMO_TEXT_DIR, DEMO_TOKEN_FILE), tokenLines({ [added]: newCaptions }).join('\n') + '\n');
    await appendFile(path.join(data, DEMO_TEXT_DIR, DEMO_SPLIT_FILES.train), `${added}\n`);
    const third = await ingest(data, path.join(tmp, 'out3'));
    assertCountsAddUp(third);

    const oldImage = first.images.find((i) => i.image_id === ids[0])!;
    const expectedImages = [...rowSet(first.images), JSON.stringify({ ...oldImage, image_id: added, path: `${DEMO_IMAGE_DIR}/${added}`, split: 'train' })];
    assert.deepEqual(rowSet(third.images), new Set(expectedImages));
    const expectedCaptions = [...rowSet(first.captions), ...newCaptions.map((caption, k) => JSON.stringify({ image_id: added, caption_index: k, caption, split: 'train' }))];
    assert.deepEqual(rowSet(third.captions), new Set(expectedCaptions));
    assert.equal(third.captions.length, first.captions.length + 5);
    assert.deepEqual(third.rejects, first.rejects);
  });
});

// ---- real data (read-only, from $CAPTION_SHARED) ----

const SHARED = process.env.CAPTION_SHARED;
const skip = SHARED ? false : 'CAPTION_SHARED is not set: real-data ingest test SKIPPED (set CAPTION_SHARED=/path/to/shared)';
if (skip) console.warn(`\n*** ${skip}\n`);
const shared = (name: string) => path.join(SHARED!, 'datasets', name);

// One temp dir for the real-data artifacts, and one full Flickr8k ingest (~10 s) shared by its tests.
let realTmp: Promise<string> | undefined;
const realDir = () => (realTmp ??= mkdtemp(path.join(os.tmpdir(), 'ingest-real-')));
let flickr8k: Promise<IngestResult> | undefined;
const flickr8kResult = () => (flickr8k ??= realDir().then((tmp) => ingest(shared('flickr8k'), path.join(tmp, 'flickr8k'), { concurrency: 8 })));
after(async () => {
  if (realTmp) await rm(await realTmp, { recursive: true, force: true });
});

test('real Flickr8k: 8,091 images and 40,455 captions kept of 40,460 records; counts add up', { skip }, async () => {
  const r = await flickr8kResult();
  assert.equal(r.manifest.extra?.format, 'flickr8k');
  assertCountsAddUp(r);
  assert.equal(r.manifest.rows.caption_records, 40460);
  assert.equal(r.manifest.rows.captions_kept, 40455);
  assert.equal(r.images.length, 8091);
  assert.equal(r.captions.length, 40455);
});

test("real Flickr8k: exactly 5 captions rejected, all of 2258277193_586949ec62.jpg.1, 'image file missing'", { skip }, async () => {
  const r = await flickr8kResult();
  assert.equal(r.manifest.rows.captions_rejected, 5);
  assert.equal(r.rejects.length, 5);
  for (const x of r.rejects) {
    assert.equal(x.source, TOKENS);
    assert.equal(x.reason, 'image file missing');
    assert.ok(x.raw.startsWith('2258277193_586949ec62.jpg.1#'), x.raw);
  }
  assert.deepEqual(r.rejects.map((x) => Number(x.raw.split('\t')[0].split('#')[1])), [0, 1, 2, 3, 4]);
  assert.equal(r.manifest.rows['rejected: image file missing'], 5);
});

test('real Flickr8k: official splits 6,000 / 1,000 / 1,000 + 91 none, by image', { skip }, async () => {
  const r = await flickr8kResult();
  const c = r.manifest.rows;
  assert.deepEqual([c.images_train, c.images_dev, c.images_test, c.images_none], [6000, 1000, 1000, 91]);
  assert.deepEqual([c.split_records, c.split_records_rejected], [8000, 0]);
  const splitOf = new Map(r.images.map((i) => [i.image_id, i.split]));
  for (const cap of r.captions) assert.equal(cap.split, splitOf.get(cap.image_id));
  assert.ok(r.images.every((i) => i.format === 'jpeg' && i.width === 224 && i.height === 224 && i.path === `${IMG}/${i.image_id}`));
});

test("real COCO val2014 subset (no images), strict: false: 4,800 images listed, 24,019 records, all 'image file missing'", { skip }, async () => {
  const r = await ingest(shared('coco-captions-val2014-subset'), path.join(await realDir(), 'coco-lax'));
  assert.equal(r.manifest.extra?.format, 'coco');
  assertCountsAddUp(r);
  assert.equal(r.manifest.rows.images_listed, 4800);
  assert.equal(r.manifest.rows.caption_records, 24019);
  assert.equal(r.manifest.rows.captions_kept, 0);
  assert.equal(r.manifest.rows.captions_rejected, 24019);
  assert.equal(r.manifest.rows['rejected: image file missing'], 24019);
  const captionRejects = r.rejects.filter((x) => x.source === 'captions_val2014.json#annotations');
  assert.equal(captionRejects.length, 24019);
  assert.ok(captionRejects.every((x) => x.reason === 'image file missing'));
  assert.deepEqual([r.images.length, r.captions.length], [0, 0]);
});

test('real COCO val2014 subset, strict: true: the stage throws a data error', { skip }, async () => {
  const out = path.join(await realDir(), 'coco-strict');
  await expectPipelineError(() => runIngest(stageFile(shared('coco-captions-val2014-subset'), { strict: true }), out), 'data',
    /^strict ingest: \d+ rejected records/, 'image file missing');
  assert.ok(!existsSync(out));
});
