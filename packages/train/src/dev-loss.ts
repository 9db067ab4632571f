/** The dev loss on this thread alone (data-parallel.ts has it split across the replicas). */
import { byLength, makeBatches, type ImageCaptions } from './batches.ts';
import type { TrainData } from './state.ts';
import { batchLoss, countTokens } from './step.ts';
import type { CaptionModel } from '@caption/model';

/**
 * Token-weighted mean loss over `images` (the dev loss), on this thread alone. The mean does not depend on how
 * images are batched, so they go in length order: batches of like lengths carry little padding.
 */
export function estimateLoss(model: CaptionModel, images: ImageCaptions[], data: TrainData, batchSize: number): number {
  let total = 0;
  let tokens = 0;
  for (const batch of makeBatches(byLength(images), batchSize)) {
    const n = countTokens(batch);
    total += batchLoss(model, batch, data.features.batch(batch.imageIds)) * n;
    tokens += n;
  }
  return total / Math.max(tokens, 1);
}
