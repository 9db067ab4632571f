/** `turbo run tokenize` entry. */
import { readStageParams, runMain } from '@caption/core';
import type { TokenizeParams } from './params.ts';
import { runTokenize } from './stage.ts';

runMain(async () => {
  await runTokenize(await readStageParams<TokenizeParams>('tokenize'));
});
