/**
 * `caption predict` against a model trained in a fresh workspace: its captions are the evaluate stage's
 * (same backbone rebuilt from the checkpoint, same float16 rounding, same decoder), unreadable inputs are
 * named and fail the command without stopping the others, --attention writes PNGs, and the checkpoint's
 * backbone record is checked (weights hash, weights that are gone, a decoder without attention).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { readParquetRows } from '../packages/core/src/index.ts';
import { REPO, cacheStatus, createWorkspace, type Workspace } from './helpers/workspace.ts';

// Small enough to train in ~20 s on 2 cores, good enough that captions are real sentences (not all empty).
const PIPELINE = `name: predict
seed: 42
ingest: { dataset: demo, demo: { images: 120, seed: 7 } }
features: { backbone: mobilenet_v2, batchSize: 16 }
tokenize: { vocabSize: 200, maxLength: 16 }
train: { decoder: attention-gru, epochs: 6, batchSize: 32, embedDim: 32, units: 64, learningRate: 0.005 }
evaluate: { split: test, maxLength: 24, samples: 2 }   # 24: predict's default --max-length
`;
const IMAGES = 'artifacts/ingest/dataset/Flicker8k_Dataset';
// sharp is a dependency of the packages, not of the repository root.
const sharp = createRequire(path.join(REPO, 'packages', 'features', 'package.json'))('sharp') as
  (file: string) => { metadata(): Promise<{ format?: string; width?: number; height?: number }> };

/** A real 1x1 GIF (GIF89a), the smallest there is. */
const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

/** stdout "<file>\t<caption>" lines -> [file, caption][] */
const lines = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((l) => l.split('\t') as [string, string]);

describe('caption predict', () => {
  let ws: Workspace;
  let expected: Map<string, string>;   // evaluate's prediction per test image file
  let files: string[];                 // test images, as paths relative to the workspace
  let greedy: string;                  // stdout of greedy predict on `files`
  const predict = (args: string[], allowFail = false) => ws.caption(['predict', ...args], { allowFail });

  before(async () => {
    ws = createWorkspace('caption-predict-');
    ws.writeFile('pipelines/predict.yaml', PIPELINE);
    ws.caption(['run', 'pipelines/predict.yaml', '--quiet']);
    const rows = await readParquetRows<{ image_id: string; caption: string }>(path.join(ws.dir, 'artifacts/evaluate/predictions.parquet'));
    expected = new Map(rows.map((r) => [`${IMAGES}/${r.image_id}`, r.caption]));
    files = [...expected.keys()].slice(0, 6);
  });
  after(() => ws?.remove());

  test('greedy captions equal the evaluate stage predictions, one line per image; timings on stderr', () => {
    assert.ok(files.length >= 5, 'the tiny pipeline has test images');
    assert.ok(files.some((f) => expected.get(f) !== ''), 'the model says something (else equality is vacuous)');
    const r = predict(files);
    greedy = r.stdout;
    assert.deepEqual(lines(r.stdout), files.map((f) => [f, expected.get(f)]));
    assert.match(r.stderr, /loaded attention-gru \+ mobilenet_v2 on onnxruntime-cpu in [\d.]+ s/);
    assert.match(r.stderr, /captioned 6 images in [\d.]+ s \([\d.]+ images\/s; read \+ features \+ greedy decoding\)/);
  });

  test('beam k=1 equals greedy; --json carries the same captions', () => {
    const beam1 = predict([...files, '--beam', '1']);
    assert.match(beam1.stderr, /beam search k=1/, '--beam 1 runs the beam search, not the greedy decoder');
    assert.equal(beam1.stdout, greedy);
    const json = JSON.parse(predict([...files, '--json']).stdout) as { captions: { file: string; caption: string }[]; errors: unknown[] };
    assert.deepEqual(json.captions.map((c) => [c.file, c.caption]), lines(greedy));
    assert.deepEqual(json.errors, []);
  });

  test('--checkpoint takes the train artifact or its checkpoint/; weights gone from there come back from the store', () => {
    assert.equal(predict([...files, '--checkpoint', 'artifacts/train']).stdout, greedy);
    const weights = path.join(ws.dir, 'artifacts/train/checkpoint/weights.bin');
    rmSync(weights);
    const restored = predict([...files, '--checkpoint', 'artifacts/train/checkpoint']);
    assert.equal(restored.stdout, greedy);
    assert.match(restored.stderr, /\[store\] train: 1 file\(s\), [\d.]+ MiB fetched from /);
    assert.ok(existsSync(weights));
  });

  test('a directory stands for its image files, sorted; every other entry is named as skipped, with why', () => {
    const dir = path.join(ws.dir, 'some-images');
    for (const f of files.slice(0, 3).reverse()) cpSync(path.join(ws.dir, f), path.join(dir, path.basename(f)));
    writeFileSync(path.join(dir, 'notes.txt'), 'not an image');
    writeFileSync(path.join(dir, 'anim.gif'), GIF);
    writeFileSync(path.join(dir, '.DS_Store'), 'x');
    mkdirSync(path.join(dir, 'more'));
    symlinkSync(path.join(ws.dir, files[3]), path.join(dir, 'zz-linked.jpg')); // a link is what it points to
    symlinkSync(path.join(ws.dir, 'nowhere.jpg'), path.join(dir, 'zz-dangling.jpg'));
    const r = predict(['some-images']);
    const got = lines(r.stdout);
    assert.deepEqual(got, [
      ...files.slice(0, 3).sort().map((f) => [path.join('some-images', path.basename(f)), expected.get(f)]),
      [path.join('some-images', 'zz-linked.jpg'), expected.get(files[3])],
    ]);
    for (const [name, why] of [['notes.txt', /not a JPEG, PNG, WebP file name \(\.txt\)/], ['anim.gif', /GIF is not a supported format/],
      ['.DS_Store', /hidden file/], ['more', /a folder/], ['zz-dangling.jpg', /a link to nothing/]] as const) {
      assert.match(r.stderr, new RegExp(`skipped some-images/${name.replace('.', '\\.')}: ${why.source}`), name);
    }
    const json = JSON.parse(predict(['some-images', '--json']).stdout) as { skipped: { file: string }[] };
    assert.deepEqual(json.skipped.map((s) => path.basename(s.file)), ['.DS_Store', 'anim.gif', 'more', 'notes.txt', 'zz-dangling.jpg']);
  });

  test('a GIF named on the command line is refused as an unsupported format (as ingest refuses it)', () => {
    writeFileSync(path.join(ws.dir, 'one.gif'), GIF);
    const r = predict(['one.gif', files[0]], true);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /one\.gif: unsupported image format: gif \(supported: JPEG, PNG, WebP\)/);
    assert.deepEqual(lines(r.stdout), [[files[0], expected.get(files[0])]]);
  });

  test('unreadable files are named with their reason, the others still captioned, exit non-zero', () => {
    const good = files.slice(0, 2);
    const bytes = readFileSync(path.join(ws.dir, files[2]));
    mkdirSync(path.join(ws.dir, 'bad'), { recursive: true });
    writeFileSync(path.join(ws.dir, 'bad/truncated.jpg'), bytes.subarray(0, Math.floor(bytes.length / 3)));
    ws.writeFile('bad/text.png', 'hello, not a PNG');
    ws.writeFile('bad/empty.webp', '');
    const r = predict([good[0], 'bad/missing.jpg', 'bad/truncated.jpg', 'bad/text.png', 'bad/empty.webp', good[1]], true);
    assert.equal(r.code, 1);
    assert.deepEqual(lines(r.stdout), good.map((f) => [f, expected.get(f)]));
    assert.match(r.stderr, /bad\/missing\.jpg: no such file/);
    assert.match(r.stderr, /bad\/truncated\.jpg: corrupt or truncated image/);
    assert.match(r.stderr, /bad\/text\.png: not an image/);
    assert.match(r.stderr, /bad\/empty\.webp: empty file/);
    assert.match(r.stderr, /4 of 6 inputs could not be captioned/);
  });

  test('--attention writes one heat-map PNG per image (numbered by input position when several)', async () => {
    predict([files[0], 'nope.jpg', files[1], '--attention', 'att/out.png'], true);
    for (const n of [1, 3]) {
      const meta = await sharp(path.join(ws.dir, `att/out-${n}.png`)).metadata();
      assert.equal(meta.format, 'png');
      assert.ok(meta.width! >= 224 && meta.height! >= 224, `att/out-${n}.png is ${meta.width}x${meta.height}`);
    }
    assert.ok(!existsSync(path.join(ws.dir, 'att/out-2.png')), 'no overlay for the missing file');
    predict([files[0], '--attention', 'single.png']);
    assert.equal((await sharp(path.join(ws.dir, 'single.png')).metadata()).format, 'png');
  });

  test('the checkpoint backbone record is checked: weights hash, weights that are gone, old checkpoints', () => {
    const edited = (name: string, edit: (extra: Record<string, any>) => void) => {
      const dir = path.join(ws.dir, name);
      cpSync(path.join(ws.dir, 'artifacts/train/checkpoint'), dir, { recursive: true });
      const model = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
      edit(model.extra);
      writeFileSync(path.join(dir, 'model.json'), JSON.stringify(model));
      return name;
    };
    const tampered = predict([files[0], '--checkpoint', edited('ckpt-hash', (e) => (e.features.weights_sha256 = '0'.repeat(64)))], true);
    assert.equal(tampered.code, 1);
    assert.match(tampered.stderr, /weights mismatch: .* sha256 0000000000000000/);

    const gone = predict([files[0], '--checkpoint', edited('ckpt-gone', (e) => (e.featuresParams.weights = 'weights/gone.h5'))], true);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /cannot rebuild the backbone .*weights 'weights\/gone\.h5'/);

    // Written before the features params were recorded: the default pretrained set-up is inferred (and hash-checked).
    const old = predict([files[0], '--checkpoint', edited('ckpt-old', (e) => (delete e.featuresParams, delete e.seed))]);
    assert.deepEqual(lines(old.stdout), [[files[0], expected.get(files[0])]]);
    const oldCustom = predict([files[0], '--checkpoint', edited('ckpt-old-h5', (e) => (delete e.featuresParams, (e.features.weights = 'Keras h5 weights x.h5')))], true);
    assert.equal(oldCustom.code, 1);
    assert.match(oldCustom.stderr, /predates recording the features params/);
  });

  test('beam k=3 equals evaluate with beamSize 3 (only evaluate re-runs)', async () => {
    ws.writeFile('pipelines/predict-beam.yaml', PIPELINE.replace('samples: 2', 'samples: 2, beamSize: 3, lengthPenalty: 0.5'));
    ws.caption(['run', 'pipelines/predict-beam.yaml', '--quiet']);
    assert.deepEqual(cacheStatus(ws.lastTurboSummary()), { ingest: 'HIT', features: 'HIT', tokenize: 'HIT', train: 'HIT', evaluate: 'MISS' });
    const rows = await readParquetRows<{ image_id: string; caption: string }>(path.join(ws.dir, 'artifacts/evaluate/predictions.parquet'));
    const beam = new Map(rows.map((r) => [`${IMAGES}/${r.image_id}`, r.caption]));
    const got = lines(predict([...files, '--beam', '3', '--length-penalty', '0.5']).stdout);
    assert.deepEqual(got, files.map((f) => [f, beam.get(f)]));
  });

  test('--attention with a decoder without attention is a usage error', () => {
    ws.writeFile('pipelines/predict-lstm.yaml', PIPELINE.replace('decoder: attention-gru', 'decoder: merge-lstm').replace('epochs: 6', 'epochs: 1'));
    ws.caption(['run', 'pipelines/predict-lstm.yaml', '--quiet']);
    const r = predict([files[0], '--attention', 'lstm.png'], true);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--attention: the checkpoint's decoder 'merge-lstm' has no attention/);
    assert.equal(lines(predict([files[0]]).stdout).length, 1, 'without --attention it captions');
  });
});
