/** `turbo run train` entry. */
import { runStage } from '@caption/core';
import type { TrainParams } from './params.ts';
import { runTrain } from './stage.ts';

runStage<TrainParams>('train', runTrain);
