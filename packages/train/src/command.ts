/** `turbo run train` entry. */
import { readStageParams, runMain } from '@caption/core';
import type { TrainParams } from './params.ts';
import { runTrain } from './stage.ts';

runMain(async () => {
  await runTrain(await readStageParams<TrainParams>('train'));
});
