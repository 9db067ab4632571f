/** `turbo run tokenize` entry. */
import { runStage } from '@caption/core';
import type { TokenizeParams } from './params.ts';
import { runTokenize } from './stage.ts';

runStage<TokenizeParams>('tokenize', runTokenize);
