/**
 * Teacher-forcing batches. A batch is whole images with all their captions, so each image's encoder
 * output is computed once and shared by its captions (gathered by `imageIndex`).
 */
import type { Rng } from '@caption/core';

export interface ImageCaptions {
  imageId: string;
  captions: Int32Array[];     // token ids, each [<start>, ..., <end>] (a sampled caption cut at maxLength has no <end>)
  weights?: number[];         // per caption: its loss weight (self-critical training: the sample's advantage)
}

export interface Batch {
  imageIds: string[];         // K images whose features the batch needs
  imageIndex: Int32Array;     // [B] -> index into imageIds
  inputs: Int32Array;         // [B, T] ids[0..n-2], right-padded with <pad>=0
  targets: Int32Array;        // [B, T] ids[1..n-1], 0 where padded (masked out of the loss)
  weights?: Float32Array;     // [B] per-caption loss weights, when the images carry them (self-critical training)
  B: number;
  T: number;
}

export function makeBatches(images: readonly ImageCaptions[], batchSize: number): Batch[] {
  return groupImages(images, batchSize).map(packBatch);
}

/** Consecutive images, cut whenever a group reaches `batchSize` captions. */
export function groupImages(images: readonly ImageCaptions[], batchSize: number): ImageCaptions[][] {
  const groups: ImageCaptions[][] = [];
  let group: ImageCaptions[] = [];
  let n = 0;
  for (const img of images) {
    group.push(img);
    n += img.captions.length;
    if (n >= batchSize) (groups.push(group), (group = []), (n = 0));
  }
  if (group.length) groups.push(group);
  return groups;
}

/**
 * Length bucketing: the (shuffled) images in pools of `poolBatches` batches, each pool sorted by its images'
 * longest caption before it is cut into batches, and the batches shuffled again. A batch is padded to its longest
 * caption, so batches of like lengths waste fewer padded steps; the pools keep the order random across the epoch.
 */
export function bucketByLength(images: readonly ImageCaptions[], batchSize: number, poolBatches: number, rng: Rng): ImageCaptions[][] {
  const groups: ImageCaptions[][] = [];
  for (const pool of groupImages(images, batchSize * poolBatches)) groups.push(...groupImages(byLength(pool), batchSize));
  return rng.shuffle(groups);
}

/** Images ordered by their longest caption (stable: equal lengths keep their order). */
export function byLength(images: readonly ImageCaptions[]): ImageCaptions[] {
  const longest = (img: ImageCaptions) => Math.max(...img.captions.map((c) => c.length));
  return images.map((img) => ({ img, n: longest(img) })).sort((a, b) => a.n - b.n).map((x) => x.img);
}

/** A batch's images in at most `parts` consecutive runs of about equal caption counts (none empty). */
export function splitGroup(group: readonly ImageCaptions[], parts: number): ImageCaptions[][] {
  const total = group.reduce((a, img) => a + img.captions.length, 0);
  const out: ImageCaptions[][] = [];
  let current: ImageCaptions[] = [];
  let seen = 0;
  for (const img of group) {
    const n = img.captions.length;
    const target = (total * (out.length + 1)) / parts;
    // cut before this image when that lands nearer the next share boundary than cutting after it
    if (current.length && out.length < parts - 1 && Math.abs(seen - target) <= Math.abs(seen + n - target)) {
      out.push(current);
      current = [];
    }
    current.push(img);
    seen += n;
  }
  if (current.length) out.push(current);
  return out;
}

export function packBatch(group: readonly ImageCaptions[]): Batch {
  const rows = group.flatMap((img, k) => img.captions.map((ids) => ({ k, ids })));
  const B = rows.length;
  const T = Math.max(...rows.map((r) => r.ids.length)) - 1;
  const inputs = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  const imageIndex = new Int32Array(B);
  rows.forEach(({ k, ids }, b) => {
    imageIndex[b] = k;
    inputs.set(ids.subarray(0, ids.length - 1), b * T);
    targets.set(ids.subarray(1), b * T);
  });
  const weights = group.some((img) => img.weights) ? Float32Array.from(group.flatMap((img) => img.weights ?? img.captions.map(() => 1))) : undefined;
  return { imageIds: group.map((g) => g.imageId), imageIndex, inputs, targets, ...(weights ? { weights } : {}), B, T };
}
