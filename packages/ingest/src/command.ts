/** `turbo run ingest` entry. */
import { runStage } from '@caption/core';
import type { IngestParams } from './params.ts';
import { runIngest } from './stage.ts';

runStage<IngestParams>('ingest', runIngest);
