/** `turbo run evaluate` entry. */
import { readStageParams, runMain } from '@caption/core';
import type { EvaluateParams } from './params.ts';
import { runEvaluate } from './stage.ts';

runMain(async () => {
  await runEvaluate(await readStageParams<EvaluateParams>('evaluate'));
});
