/** Attention heat maps: geometry of the tiled PNG, the map peaks where attention does, same bytes every time. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { attentionGrid, attentionOverlay, attentionPanels, upsample } from '../src/attention-overlay.ts';

// an 80×60 image: left half black, right half white (a Buffer, as callers with in-memory images pass)
const IMAGE = sharp({ create: { width: 80, height: 60, channels: 3, background: '#000000' } })
  .composite([{ input: { create: { width: 40, height: 60, channels: 3, background: '#ffffff' } }, left: 40, top: 0 }]).png().toBuffer();
const oneHot = (L: number, at: number) => Float32Array.from({ length: L }, (_, l) => (l === at ? 1 : 0));

test('attentionGrid: square grids only', () => {
  assert.deepEqual(attentionGrid(64), [8, 8]);
  assert.deepEqual(attentionGrid(49), [7, 7]);
  assert.deepEqual(attentionGrid(100), [10, 10]);
  assert.throws(() => attentionGrid(50), /square/);
});

test('upsample: scaled to the attention peak, highest at the attended cell, smooth (bilinear) falloff, 0 far away', () => {
  const map = upsample(oneHot(16, 5), [4, 4], 40); // cell (row 1, col 1) covers pixels 10..19
  assert.ok(Math.max(...map) <= 1);
  assert.equal(map.indexOf(Math.max(...map)), 14 * 40 + 14); // nearest pixel to the cell centre (14.5, 14.5)
  assert.ok(map[15 * 40 + 15] > 0.9, 'the centre of the cell');
  assert.equal(map[35 * 40 + 35], 0, 'a far corner');
  const between = map[15 * 40 + 20]; // half a cell to the right of the centre
  assert.ok(between > 0.3 && between < 0.7, `${between}`);
  assert.throws(() => upsample(oneHot(15, 0), [4, 4], 8), /15 positions/);
});

test('attentionOverlay: one panel per word, 5 per row with 4 px gutters; panels follow the attention', async () => {
  const words = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
  const attention = words.map((_, i) => oneHot(4, i % 2 === 0 ? 0 : 3)); // 2×2 grid: top-left or bottom-right
  const png = await attentionOverlay(await IMAGE, words, attention, [2, 2], { size: 32 });
  const meta = await sharp(png).metadata();
  assert.equal(meta.format, 'png');
  assert.deepEqual([meta.width, meta.height], [5 * 36 - 4, 2 * 36 - 4]);

  const panels = await attentionPanels(await IMAGE, ['left', 'right'], [oneHot(4, 0), oneHot(4, 3)], [2, 2], { size: 32 });
  assert.equal(panels.length, 2);
  const pixels = await Promise.all(panels.map(async (p) => (await sharp(p).raw().toBuffer({ resolveWithObject: true })).data));
  const at = (px: Buffer, x: number, y: number) => px[(y * 32 + x) * 3] + px[(y * 32 + x) * 3 + 1] + px[(y * 32 + x) * 3 + 2];
  // the black top-left corner is brighter where it is attended (heat colour) than where it is not
  assert.ok(at(pixels[0], 4, 4) > at(pixels[1], 4, 4) + 60, `${at(pixels[0], 4, 4)} vs ${at(pixels[1], 4, 4)}`);
  // the white bottom-right corner is dimmed where it is not attended
  assert.ok(at(pixels[1], 28, 28) > at(pixels[0], 28, 28) + 60, `${at(pixels[1], 28, 28)} vs ${at(pixels[0], 28, 28)}`);

  // deterministic bytes; JPEG panels on request
  assert.deepEqual(await attentionOverlay(await IMAGE, words, attention, [2, 2], { size: 32 }), png);
  const [jpeg] = await attentionPanels(await IMAGE, ['a'], [oneHot(4, 0)], [2, 2], { size: 32, format: 'jpeg' });
  assert.equal((await sharp(jpeg).metadata()).format, 'jpeg');
});
