/** `turbo run features` entry. */
import { runStage } from '@caption/core';
import type { FeaturesParams } from './params.ts';
import { runFeatures } from './stage.ts';

runStage<FeaturesParams>('features', runFeatures);
