/** `turbo run evaluate` entry. */
import { runStage } from '@caption/core';
import type { EvaluateParams } from './params.ts';
import { runEvaluate } from './stage.ts';

runStage<EvaluateParams>('evaluate', runEvaluate);
