/** `turbo run features` entry. */
import { readStageParams, runMain } from '@caption/core';
import type { FeaturesParams } from './params.ts';
import { runFeatures } from './stage.ts';

runMain(async () => {
  await runFeatures(await readStageParams<FeaturesParams>('features'));
});
