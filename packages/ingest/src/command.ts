/** `turbo run ingest` entry: read the resolved params file, run the stage. */
import { readStageParams, runMain } from '@caption/core';
import type { IngestParams } from './params.ts';
import { runIngest } from './stage.ts';

runMain(async () => {
  await runIngest(await readStageParams<IngestParams>('ingest'));
});
