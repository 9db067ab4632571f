// Embedded demo data set: deterministic coloured-shape scenes with five captions each,
// written in the Flickr8k file layout so the real Flickr8k ingest reads it unchanged.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import sharp from 'sharp';
import {
  BACKGROUNDS,
  BACKGROUND_RGB,
  COLOURS,
  POSITIONS,
  POSITION_XY,
  SHAPES,
  SHAPE_RGB,
  SIZES,
  fnv1a,
  makeCaptions,
  DEFAULT_SPLITS,
  mulberry32,
  pick,
  shuffle,
  splitSizes,
} from './scenes.ts';

export { BACKGROUND_RGB, SHAPE_RGB, TEMPLATES, splitSizes as demoSplitSizes } from './scenes.ts';

export interface DemoDatasetOptions {
  seed: number;
  images: number;
  /** Fractions of images per split; default 0.75 / 0.125 / 0.125. */
  splits?: { train: number; dev: number; test: number };
}

export interface DemoScene {
  imageId: string;
  shape: string;
  colour: string;
  background: string;
  size: 'small' | 'large';
  position: string;
  captions: string[];
}

export interface DemoGeometry {
  cx: number;
  cy: number;
  r: number;
}

export const DEMO_IMAGE_SIZE = 224;
export const DEMO_TEXT_DIR = 'Flickr8k_text';
export const DEMO_IMAGE_DIR = 'Flicker8k_Dataset'; // sic: the official Flickr8k typo
export const DEMO_TOKEN_FILE = 'Flickr8k.token.txt';
export const DEMO_SPLIT_FILES = {
  train: 'Flickr_8k.trainImages.txt',
  dev: 'Flickr_8k.devImages.txt',
  test: 'Flickr_8k.testImages.txt',
} as const;
const CAPTIONS_PER_IMAGE = 5;
const WRITE_CONCURRENCY = 4;

function checkOptions(opts: DemoDatasetOptions): void {
  if (!Number.isInteger(opts.seed)) throw new Error(`demo seed must be an integer, got ${opts.seed}`);
  if (!Number.isInteger(opts.images) || opts.images < 1) {
    throw new Error(`demo images must be a positive integer, got ${opts.images}`);
  }
  const s = opts.splits ?? DEFAULT_SPLITS;
  const parts = [s.train, s.dev, s.test];
  if (parts.some((f) => !Number.isFinite(f) || f < 0) || parts.reduce((a, b) => a + b, 0) <= 0) {
    throw new Error(`demo split fractions must be non-negative with a positive sum: ${JSON.stringify(s)}`);
  }
}

/** Pure, deterministic scene plan. Scene i depends only on (seed, i), so plans are prefix-stable. */
export function planDemoScenes(opts: DemoDatasetOptions): DemoScene[] {
  checkOptions(opts);
  const scenes: DemoScene[] = [];
  for (let i = 0; i < opts.images; i++) {
    const rng = mulberry32(fnv1a(`demo-scene:${opts.seed}:${i}`));
    const shape = pick(rng, SHAPES);
    const colour = pick(rng, COLOURS);
    const background = pick(rng, BACKGROUNDS.filter((b) => b !== colour));
    const size = pick(rng, SIZES);
    const position = pick(rng, POSITIONS);
    const hash = fnv1a(`${opts.seed}:${i}:${shape}:${colour}:${background}:${size}:${position}`);
    const imageId = `shape_${String(i + 1).padStart(4, '0')}_${hash.toString(16).padStart(8, '0')}.jpg`;
    const captions = makeCaptions(rng, { shape, colour, background, size, position }, CAPTIONS_PER_IMAGE);
    scenes.push({ imageId, shape, colour, background, size, position, captions });
  }
  return scenes;
}

/** Deterministic seeded assignment of image ids to train/dev/test (each list in plan order). */
export function splitDemoScenes(
  scenes: readonly DemoScene[],
  opts: DemoDatasetOptions,
): { train: string[]; dev: string[]; test: string[] } {
  const sizes = splitSizes(scenes.length, opts.splits ?? DEFAULT_SPLITS);
  const order = shuffle(
    mulberry32(fnv1a(`demo-split:${opts.seed}`)),
    scenes.map((_, i) => i),
  );
  const slot = new Array<'train' | 'dev' | 'test'>(scenes.length);
  order.forEach((idx, k) => {
    slot[idx] = k < sizes.train ? 'train' : k < sizes.train + sizes.dev ? 'dev' : 'test';
  });
  const out = { train: [] as string[], dev: [] as string[], test: [] as string[] };
  scenes.forEach((s, i) => out[slot[i]].push(s.imageId));
  return out;
}

/** Shape centre and radius in pixels (position + small deterministic jitter keyed on imageId). */
export function demoSceneGeometry(scene: DemoScene, size = DEMO_IMAGE_SIZE): DemoGeometry {
  const rng = mulberry32(fnv1a(`demo-geom:${scene.imageId}`));
  const r = Math.round((scene.size === 'small' ? 26 : 60) * (size / 224) + rng() * (scene.size === 'small' ? 8 : 12));
  const [fx, fy] = POSITION_XY[scene.position] ?? [0.5, 0.5];
  const jitter = () => Math.round((rng() * 2 - 1) * 8 * (size / 224));
  const clamp = (v: number) => Math.min(size - r - 6, Math.max(r + 6, v));
  return { cx: clamp(Math.round(fx * size) + jitter()), cy: clamp(Math.round(fy * size) + jitter()), r };
}

function insideShape(shape: string, dx: number, dy: number, r: number): boolean {
  switch (shape) {
    case 'circle':
      return dx * dx + dy * dy <= r * r;
    case 'square':
      return Math.abs(dx) <= 0.85 * r && Math.abs(dy) <= 0.85 * r;
    case 'triangle': // apex up, base at 0.75r below the centre
      return dy >= -r && dy <= 0.75 * r && Math.abs(dx) <= (0.95 * (dy + r)) / 1.75;
    case 'cross': {
      const arm = 0.3 * r;
      return (Math.abs(dx) <= arm && Math.abs(dy) <= r) || (Math.abs(dy) <= arm && Math.abs(dx) <= r);
    }
    default:
      throw new Error(`unknown demo shape: ${shape}`);
  }
}

/** Raw RGB pixels (channels 3) for one scene, with mild deterministic noise and background tint. */
export function renderDemoScene(scene: DemoScene, size = DEMO_IMAGE_SIZE): Buffer {
  const { cx, cy, r } = demoSceneGeometry(scene, size);
  const fg = SHAPE_RGB[scene.colour];
  const bg = BACKGROUND_RGB[scene.background];
  if (!fg || !bg) throw new Error(`unknown demo colour: ${scene.colour} / ${scene.background}`);
  const rng = mulberry32(fnv1a(`demo-pixels:${scene.imageId}`));
  const tint = Math.round((rng() * 2 - 1) * 10);
  const buf = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = insideShape(scene.shape, x - cx, y - cy, r);
      const base = inside ? fg : bg;
      const shift = inside ? 0 : tint;
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) {
        const v = base[c] + shift + Math.round((rng() * 2 - 1) * 6);
        buf[o + c] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return buf;
}

export async function encodeDemoScene(scene: DemoScene, size = DEMO_IMAGE_SIZE): Promise<Buffer> {
  return sharp(renderDemoScene(scene, size), { raw: { width: size, height: size, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

async function writeAtomic(file: string, data: string | Buffer): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

const lines = (items: readonly string[]) => (items.length ? `${items.join('\n')}\n` : '');

/** Write the demo set in Flickr8k layout under outDir (created if missing). */
export async function writeDemoDataset(
  outDir: string,
  opts: DemoDatasetOptions,
): Promise<{ images: number; captions: number }> {
  const scenes = planDemoScenes(opts);
  const textDir = path.join(outDir, DEMO_TEXT_DIR);
  const imageDir = path.join(outDir, DEMO_IMAGE_DIR);
  await mkdir(textDir, { recursive: true });
  await mkdir(imageDir, { recursive: true });

  const limit = pLimit(WRITE_CONCURRENCY);
  await Promise.all(
    scenes.map((s) => limit(async () => writeAtomic(path.join(imageDir, s.imageId), await encodeDemoScene(s)))),
  );

  const tokenLines = scenes.flatMap((s) => s.captions.map((c, n) => `${s.imageId}#${n}\t${c}`));
  const split = splitDemoScenes(scenes, opts);
  await writeAtomic(path.join(textDir, DEMO_SPLIT_FILES.train), lines(split.train));
  await writeAtomic(path.join(textDir, DEMO_SPLIT_FILES.dev), lines(split.dev));
  await writeAtomic(path.join(textDir, DEMO_SPLIT_FILES.test), lines(split.test));
  // Token file last: its presence marks a complete data set.
  await writeAtomic(path.join(textDir, DEMO_TOKEN_FILE), lines(tokenLines));
  return { images: scenes.length, captions: tokenLines.length };
}
