/**
 * Self-critical sequence training (Rennie et al. 2017, "Self-critical Sequence Training for Image Captioning"),
 * with the baseline of Luo 2020 ("A Better Variant of Self-Critical Sequence Training"): for every image, k
 * captions sampled from the model are scored with CIDEr-D against its train references; a sample's advantage is
 * its reward minus the mean reward of the image's other samples, and the step minimises
 * Σ advantage · (−log p(sampled token)) over the sampled tokens — the cross-entropy loss with per-caption weights —
 * so captions that beat their siblings become more likely. It optimises the metric captions are judged by, with the
 * decoding that produced them, where teacher forcing only ever saw reference prefixes.
 */
import type { Rng } from '@caption/core';
import type { ImageCaptions } from './batches.ts';
import { END, START } from '@caption/core';
import { CiderD } from '@caption/metrics';
import { type CaptionModel, greedyDecode, sampleDecode, type FeatureSource } from '@caption/model';

/** An image's references as the scorer reads them: token ids without <start>/<end>. */
export function referenceTokens(images: readonly ImageCaptions[]): Map<string, number[][]> {
  return new Map(images.map((img) => [img.imageId, img.captions.map((c) => Array.from(c).filter((id) => id !== START && id !== END))]));
}

export interface SampledGroup {
  images: ImageCaptions[];  // each image with its k samples as captions ([<start>, ..., <end>]) and their advantages
  meanReward: number;
}

/** k sampled captions (token ids, no <start>/<end>) per image of `imageIds`, image by image. */
export function sampleCaptions(model: CaptionModel, features: FeatureSource, imageIds: readonly string[], opts: { samples: number; maxLength: number }, rng: Rng): Int32Array[] {
  const ids = imageIds.flatMap((id) => Array.from({ length: opts.samples }, () => id));
  return sampleDecode(model, features, ids, opts.maxLength, ids.length, rng).map((d) => d.tokens);
}

/**
 * The samples of each image of `group` (k each, in order) as captions, each with its CIDEr-D reward against the
 * image's references and its advantage (reward − mean reward of the image's other samples).
 */
export function scoreSamples(
  group: readonly ImageCaptions[], sampled: readonly Int32Array[], references: Map<string, number[][]>, scorer: CiderD,
  opts: { samples: number; maxLength: number },
): SampledGroup {
  const k = opts.samples;
  let total = 0;
  const images = group.map((img, j) => {
    const samples = sampled.slice(j * k, (j + 1) * k);
    const rewards = samples.map((tokens) => scorer.score(Array.from(tokens), references.get(img.imageId)!));
    const sum = rewards.reduce((a, r) => a + r, 0);
    total += sum;
    return {
      imageId: img.imageId,
      // a sample cut at maxLength did not choose <end>: it gets no <end> target
      captions: samples.map((tokens) => Int32Array.from([START, ...tokens, ...(tokens.length < opts.maxLength ? [END] : [])])),
      weights: rewards.map((r) => r - (sum - r) / (k - 1)),
    };
  });
  return { images, meanReward: total / Math.max(sampled.length, 1) };
}

/** Mean CIDEr-D of greedy captions of `images` against their references (document frequencies over these images). */
export function greedyCider(model: CaptionModel, features: FeatureSource, images: readonly ImageCaptions[], maxLength: number, batchSize: number): number {
  const references = referenceTokens(images);
  const scorer = new CiderD(references.values());
  const decoded = greedyDecode(model, features, images.map((img) => img.imageId), maxLength, batchSize);
  return decoded.reduce((a, d, i) => a + scorer.score(Array.from(d.tokens), references.get(images[i].imageId)!), 0) / Math.max(images.length, 1);
}
