/**
 * Attention heat maps: for each emitted word, the decoder's attention over the h×w feature grid, upsampled
 * bilinearly to the picture size and blended over the (squared) image. Pixels are computed here rather than
 * with sharp's resampler so the output is the same bytes on every machine for the same inputs.
 */
import sharp from 'sharp';

export interface OverlayOptions {
  size?: number;                 // panel side in pixels (default 224)
  format?: 'png' | 'jpeg';       // attentionPanels only (default png)
  quality?: number;              // JPEG quality (default 80)
  columns?: number;              // attentionOverlay: panels per row (default min(words, 5))
}

/** The grid for L feature positions: square (64 -> 8×8, 49 -> 7×7). */
export function attentionGrid(positions: number): [number, number] {
  const side = Math.round(Math.sqrt(positions));
  if (side * side !== positions) throw new Error(`cannot lay ${positions} attention positions on a square grid`);
  return [side, side];
}

/** One image per word: the word's attention map blended over the image. */
export async function attentionPanels(
  image: string | Buffer, words: string[], attention: Float32Array[], grid: [number, number], opts: OverlayOptions = {},
): Promise<Buffer[]> {
  const size = opts.size ?? 224;
  const base = await squareRgb(image, size);
  return Promise.all(words.map((_, i) => {
    const pixels = blend(base, upsample(attention[i] ?? new Float32Array(grid[0] * grid[1]), grid, size), size);
    const img = sharp(pixels, { raw: { width: size, height: size, channels: 3 } });
    return (opts.format === 'jpeg' ? img.jpeg({ quality: opts.quality ?? 80 }) : img.png()).toBuffer();
  }));
}

/** All words' panels tiled into one PNG (row-major, `columns` per row, 4 px white gutters). */
export async function attentionOverlay(
  image: string | Buffer, words: string[], attention: Float32Array[], grid: [number, number], opts: OverlayOptions = {},
): Promise<Buffer> {
  const size = opts.size ?? 224;
  const gap = 4;
  const cols = Math.max(1, Math.min(words.length, opts.columns ?? 5));
  const rows = Math.max(1, Math.ceil(words.length / cols));
  const panels = await attentionPanels(image, words, attention, grid, { ...opts, size, format: 'png' });
  return sharp({ create: { width: cols * (size + gap) - gap, height: rows * (size + gap) - gap, channels: 3, background: '#ffffff' } })
    .composite(panels.map((input, i) => ({ input, left: (i % cols) * (size + gap), top: Math.floor(i / cols) * (size + gap) })))
    .png()
    .toBuffer();
}

/** The image as size×size RGB bytes, EXIF-rotated and squashed (as the feature extractor saw it). */
async function squareRgb(image: string | Buffer, size: number): Promise<Uint8Array> {
  const { data } = await sharp(image).rotate().removeAlpha().toColourspace('srgb')
    .resize(size, size, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  return data;
}

/** Attention [h*w] -> size×size map in [0,1] (scaled so the word's peak is 1), bilinear with pixel centres. */
export function upsample(attention: Float32Array, [h, w]: [number, number], size: number): Float32Array {
  if (attention.length !== h * w) throw new Error(`attention has ${attention.length} positions, grid ${h}x${w} needs ${h * w}`);
  let peak = 0;
  for (const a of attention) peak = Math.max(peak, a);
  const scale = peak > 0 ? 1 / peak : 0;
  const out = new Float32Array(size * size);
  const coord = (p: number, n: number) => {
    const x = Math.min(Math.max(((p + 0.5) * n) / size - 0.5, 0), n - 1);
    const i0 = Math.floor(x);
    return [i0, Math.min(i0 + 1, n - 1), x - i0] as const;
  };
  for (let y = 0; y < size; y++) {
    const [r0, r1, fy] = coord(y, h);
    for (let x = 0; x < size; x++) {
      const [c0, c1, fx] = coord(x, w);
      const top = attention[r0 * w + c0] * (1 - fx) + attention[r0 * w + c1] * fx;
      const bottom = attention[r1 * w + c0] * (1 - fx) + attention[r1 * w + c1] * fx;
      out[y * size + x] = (top * (1 - fy) + bottom * fy) * scale;
    }
  }
  return out;
}

// A perceptual dark-blue -> red -> yellow ramp (stops of matplotlib's "inferno", shifted off black so
// low attention still shows the photo).
const RAMP: [number, number, number][] = [[40, 11, 84], [101, 21, 110], [159, 42, 99], [212, 72, 66], [245, 125, 21], [250, 193, 39], [252, 255, 164]];

function colour(m: number): [number, number, number] {
  const x = Math.min(Math.max(m, 0), 1) * (RAMP.length - 1);
  const i = Math.min(Math.floor(x), RAMP.length - 2);
  const f = x - i;
  return [0, 1, 2].map((c) => RAMP[i][c] * (1 - f) + RAMP[i + 1][c] * f) as [number, number, number];
}

/** Image dimmed where attention is low, tinted by the heat colour: the attended region stays readable. */
function blend(base: Uint8Array, map: Float32Array, size: number): Buffer {
  const out = Buffer.alloc(size * size * 3);
  for (let p = 0; p < size * size; p++) {
    const m = map[p];
    const heat = colour(m);
    const keep = 0.35 + 0.4 * m; // photo weight: 0.35 where ignored, 0.75 at the peak
    for (let c = 0; c < 3; c++) out[p * 3 + c] = Math.round(base[p * 3 + c] * keep + heat[c] * (1 - keep));
  }
  return out;
}
