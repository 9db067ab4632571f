// Vocabulary, seeded randomness and caption templates for the embedded demo data set.
// Everything here is pure and deterministic: no Math.random, no clock.

export type Rgb = readonly [number, number, number];
export type Rng = () => number;

/** mulberry32: tiny, fast 32-bit seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a 32-bit hash of a string (used for ids and per-image sub-seeds). */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)];
}

/** Deterministic Fisher-Yates shuffle (returns a new array). */
export function shuffle<T>(rng: Rng, items: readonly T[]): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export const SHAPES = ['circle', 'square', 'triangle', 'cross'] as const;
export const COLOURS = ['red', 'green', 'blue', 'yellow', 'white'] as const;
export const BACKGROUNDS = ['black', 'gray', 'blue', 'green'] as const;
export const SIZES = ['small', 'large'] as const;
export const POSITIONS = ['left', 'right', 'center', 'top', 'bottom'] as const;

/** Saturated shape colours. */
export const SHAPE_RGB: Record<string, Rgb> = {
  red: [220, 30, 30],
  green: [30, 190, 60],
  blue: [40, 80, 230],
  yellow: [245, 220, 30],
  white: [245, 245, 245],
};

/** Background colours (darker than the shape colours of the same name). */
export const BACKGROUND_RGB: Record<string, Rgb> = {
  black: [15, 15, 15],
  gray: [128, 128, 128],
  blue: [25, 45, 140],
  green: [30, 110, 45],
};

/** Shape centre as a fraction of the image size, before clamping/jitter. */
export const POSITION_XY: Record<string, readonly [number, number]> = {
  left: [0.28, 0.5],
  right: [0.72, 0.5],
  center: [0.5, 0.5],
  top: [0.5, 0.28],
  bottom: [0.5, 0.72],
};

export interface SceneWords {
  shape: string;
  colour: string;
  background: string;
  size: 'small' | 'large';
  position: string;
}

// Synonyms are used sparingly (SYNONYM_RATE) so the main words dominate.
const SYNONYM_RATE = 0.12;
const SHAPE_SYNONYMS: Record<string, string[]> = {
  circle: ['disc', 'dot'],
  square: ['box'],
  triangle: ['triangle'],
  cross: ['plus sign'],
};
const SHAPE_ADJECTIVE: Record<string, string> = {
  circle: 'round',
  square: 'square',
  triangle: 'triangular',
  cross: 'cross',
};
const SIZE_SYNONYMS: Record<string, string[]> = { small: ['little', 'tiny'], large: ['big'] };
const POSITION_PHRASES: Record<string, string[]> = {
  left: ['on the left', 'on the left side'],
  right: ['on the right', 'on the right side'],
  center: ['in the middle', 'in the center'],
  top: ['at the top', 'near the top'],
  bottom: ['at the bottom', 'near the bottom'],
};

function word(rng: Rng, main: string, synonyms: readonly string[] | undefined): string {
  return synonyms && synonyms.length > 0 && rng() < SYNONYM_RATE ? pick(rng, synonyms) : main;
}

function bgWord(rng: Rng, bg: string): string {
  return bg === 'gray' && rng() < SYNONYM_RATE ? 'grey' : bg;
}

type Template = (rng: Rng, s: SceneWords) => string;

/** Caption templates; every one names the shape and its colour, most name the background. */
export const TEMPLATES: readonly Template[] = [
  (r, s) => `a ${s.colour} ${word(r, s.shape, SHAPE_SYNONYMS[s.shape])} on a ${bgWord(r, s.background)} background`,
  (r, s) =>
    `a ${word(r, s.size, SIZE_SYNONYMS[s.size])} ${s.colour} ${s.shape} ${pick(r, POSITION_PHRASES[s.position])} of a ${bgWord(r, s.background)} image`,
  (r, s) =>
    `there is a ${word(r, s.size, SIZE_SYNONYMS[s.size])} ${s.colour} ${word(r, s.shape, SHAPE_SYNONYMS[s.shape])} ${pick(r, POSITION_PHRASES[s.position])}`,
  (r, s) => `a ${bgWord(r, s.background)} picture with a ${s.colour} ${SHAPE_ADJECTIVE[s.shape]} shape`,
  (r, s) => `${s.colour} ${s.shape} against ${bgWord(r, s.background)}`,
  (r, s) => `a ${s.colour} ${s.shape} drawn on a plain ${bgWord(r, s.background)} background`,
  (r, s) =>
    `a simple image of a ${word(r, s.size, SIZE_SYNONYMS[s.size])} ${s.colour} ${s.shape} on ${bgWord(r, s.background)}`,
  (r, s) => `the ${s.shape} is ${s.colour} and the background is ${bgWord(r, s.background)}`,
];

/** Five captions from five distinct templates, occasionally ending with a period. */
export function makeCaptions(rng: Rng, scene: SceneWords, count = 5): string[] {
  const order = shuffle(
    rng,
    TEMPLATES.map((_, i) => i),
  ).slice(0, count);
  return order.map((i) => {
    const text = TEMPLATES[i](rng, scene);
    return rng() < 0.1 ? `${text}.` : text;
  });
}

export const DEFAULT_SPLITS = { train: 0.75, dev: 0.125, test: 0.125 };

/** Split sizes by largest remainder; every split with a positive fraction gets >= 1 image when possible. */
export function splitSizes(n: number, splits = DEFAULT_SPLITS): { train: number; dev: number; test: number } {
  const keys = ['train', 'dev', 'test'] as const;
  const total = splits.train + splits.dev + splits.test;
  const quota = keys.map((k) => (n * splits[k]) / total);
  const sizes = quota.map(Math.floor);
  let left = n - sizes.reduce((a, b) => a + b, 0);
  const byRemainder = keys.map((_, i) => i).sort((a, b) => quota[b] - sizes[b] - (quota[a] - sizes[a]) || a - b);
  for (const i of byRemainder) {
    if (left > 0) {
      sizes[i]++;
      left--;
    }
  }
  for (let i = 0; i < 3; i++) {
    if (sizes[i] === 0 && splits[keys[i]] > 0) {
      const donor = sizes.indexOf(Math.max(...sizes));
      if (sizes[donor] > 1) {
        sizes[donor]--;
        sizes[i]++;
      }
    }
  }
  return { train: sizes[0], dev: sizes[1], test: sizes[2] };
}
