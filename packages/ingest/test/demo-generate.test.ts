import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import {
  BACKGROUND_RGB,
  DEMO_IMAGE_DIR,
  DEMO_SPLIT_FILES,
  DEMO_TEXT_DIR,
  DEMO_TOKEN_FILE,
  SHAPE_RGB,
  demoSceneGeometry,
  demoSplitSizes,
  planDemoScenes,
  splitDemoScenes,
  writeDemoDataset,
} from '../src/demo/generate.ts';

const OPTS = { seed: 1234, images: 12 };

function near(actual: ArrayLike<number>, expected: readonly number[], tol: number, what: string): void {
  for (let c = 0; c < 3; c++) {
    assert.ok(
      Math.abs(actual[c] - expected[c]) <= tol,
      `${what}: got [${Array.from(actual).join(',')}], expected ~[${expected.join(',')}]`,
    );
  }
}

test('plan is deterministic for a seed and differs across seeds', () => {
  const a = planDemoScenes(OPTS);
  const b = planDemoScenes(OPTS);
  assert.deepEqual(a, b);
  assert.equal(a.length, 12);
  const c = planDemoScenes({ ...OPTS, seed: 1235 });
  assert.notDeepEqual(a, c);
  assert.notDeepEqual(
    a.map((s) => s.imageId),
    c.map((s) => s.imageId),
  );
  // the content itself (not just the ids) must depend on the seed
  const content = (p: typeof a) => p.map(({ imageId: _id, ...rest }) => rest);
  assert.notDeepEqual(content(a), content(c));
  // prefix-stable: scene i depends only on (seed, i)
  assert.deepEqual(planDemoScenes({ ...OPTS, images: 5 }), a.slice(0, 5));
  assert.throws(() => planDemoScenes({ seed: 1, images: 0 }));
  assert.throws(() => planDemoScenes({ seed: 1.5, images: 3 }));
});

test('scenes are well formed: ids, attributes, five captions each', () => {
  const scenes = planDemoScenes({ seed: 7, images: 200 });
  const ids = new Set(scenes.map((s) => s.imageId));
  assert.equal(ids.size, scenes.length);
  for (const [i, s] of scenes.entries()) {
    assert.match(s.imageId, new RegExp(`^shape_${String(i + 1).padStart(4, '0')}_[0-9a-f]{8}\\.jpg$`));
    assert.notEqual(s.background, s.colour);
    assert.ok(s.size === 'small' || s.size === 'large');
    assert.equal(s.captions.length, 5);
    assert.equal(new Set(s.captions).size, 5, `captions should be distinct: ${s.captions.join(' | ')}`);
    for (const c of s.captions) {
      assert.equal(c, c.toLowerCase());
      assert.doesNotMatch(c, /[\t\n#]/);
      assert.ok(c.includes(s.colour), `caption must name the colour: ${c}`);
    }
  }
  // attribute variety over 200 scenes
  for (const key of ['shape', 'colour', 'background', 'size', 'position'] as const) {
    assert.ok(new Set(scenes.map((s) => s[key])).size >= 2, key);
  }
  assert.equal(new Set(scenes.map((s) => s.shape)).size, 4);
});

test('split sizes follow the fractions', () => {
  assert.deepEqual(demoSplitSizes(480), { train: 360, dev: 60, test: 60 });
  assert.deepEqual(demoSplitSizes(100, { train: 0.5, dev: 0.3, test: 0.2 }), { train: 50, dev: 30, test: 20 });
  assert.deepEqual(demoSplitSizes(3), { train: 1, dev: 1, test: 1 });
  for (const n of [1, 7, 12, 33, 481]) {
    const s = demoSplitSizes(n);
    assert.equal(s.train + s.dev + s.test, n);
    if (n >= 8) {
      assert.ok(Math.abs(s.train - 0.75 * n) <= 1 && Math.abs(s.dev - 0.125 * n) <= 1, JSON.stringify(s));
    }
  }
  const opts = { seed: 3, images: 80, splits: { train: 0.5, dev: 0.25, test: 0.25 } };
  const split = splitDemoScenes(planDemoScenes(opts), opts);
  assert.deepEqual([split.train.length, split.dev.length, split.test.length], [40, 20, 20]);
});

test('writes Flickr8k layout deterministically; JPEGs match the plan', async () => {
  const dirs = [await mkdtemp(path.join(os.tmpdir(), 'demo-a-')), await mkdtemp(path.join(os.tmpdir(), 'demo-b-'))];
  try {
    for (const dir of dirs) assert.deepEqual(await writeDemoDataset(dir, OPTS), { images: 12, captions: 60 });
    const [a, b] = dirs;
    const scenes = planDemoScenes(OPTS);
    const ids = scenes.map((s) => s.imageId);

    // token file: byte-identical, Flickr8k format, final newline
    const tokenA = await readFile(path.join(a, DEMO_TEXT_DIR, DEMO_TOKEN_FILE));
    assert.ok(tokenA.equals(await readFile(path.join(b, DEMO_TEXT_DIR, DEMO_TOKEN_FILE))));
    const tokenText = tokenA.toString('utf8');
    assert.ok(tokenText.endsWith('\n') && !tokenText.endsWith('\n\n'));
    const rows = tokenText.slice(0, -1).split('\n');
    assert.equal(rows.length, 60);
    rows.forEach((row, k) => {
      const m = /^(.+\.jpg)#(\d)\t(.+)$/.exec(row);
      assert.ok(m, row);
      assert.equal(m[1], ids[Math.floor(k / 5)]);
      assert.equal(Number(m[2]), k % 5);
      assert.equal(m[3], scenes[Math.floor(k / 5)].captions[k % 5]);
    });

    // splits: every id in exactly one list, sizes follow the default fractions
    const seen = new Map<string, number>();
    const sizes: number[] = [];
    for (const file of Object.values(DEMO_SPLIT_FILES)) {
      const text = await readFile(path.join(a, DEMO_TEXT_DIR, file), 'utf8');
      assert.ok(text.endsWith('\n'));
      assert.equal(text, await readFile(path.join(b, DEMO_TEXT_DIR, file), 'utf8'));
      const list = text.trim().split('\n');
      sizes.push(list.length);
      for (const id of list) seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    assert.deepEqual(sizes, [9, 2, 1]);
    assert.deepEqual([...seen.keys()].sort(), [...ids].sort());
    assert.ok([...seen.values()].every((v) => v === 1));

    // images: present, byte-identical across runs, decode to 224x224x3, colours where planned
    assert.deepEqual((await readdir(path.join(a, DEMO_IMAGE_DIR))).sort(), [...ids].sort());
    const hashes = new Set<string>();
    for (const s of scenes) {
      const jpgA = await readFile(path.join(a, DEMO_IMAGE_DIR, s.imageId));
      const jpgB = await readFile(path.join(b, DEMO_IMAGE_DIR, s.imageId));
      assert.ok(jpgA.equals(jpgB), `JPEG bytes differ for ${s.imageId}`);
      assert.equal(jpgA[0], 0xff);
      assert.equal(jpgA[1], 0xd8);
      hashes.add(jpgA.toString('base64'));
      const { data, info } = await sharp(jpgA).raw().toBuffer({ resolveWithObject: true });
      assert.deepEqual([info.width, info.height, info.channels], [224, 224, 3]);
      const px = (x: number, y: number) => data.subarray((y * 224 + x) * 3, (y * 224 + x) * 3 + 3);
      const g = demoSceneGeometry(s);
      near(px(g.cx, g.cy), SHAPE_RGB[s.colour], 40, `${s.imageId} shape centre (${s.colour} ${s.shape})`);
      near(px(2, 2), BACKGROUND_RGB[s.background], 40, `${s.imageId} corner (${s.background})`);
    }
    assert.equal(hashes.size, scenes.length);
  } finally {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  }
});
