/** `caption score --vectors <file.json>`: re-score a pycocoevalcap test-vector file and report the deviations. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError } from '@caption/core';
import type { Command } from '../command.ts';
import { checkMetricVectors } from '@caption/metrics';

/** Largest |computed - reference| accepted for any corpus or per-image score. */
export const SCORE_TOLERANCE = 1e-6;

export const scoreCommand: Command = {
  name: 'score',
  summary: 'check BLEU-1..4, CIDEr-D and ROUGE-L against a test-vector file of pycocoevalcap scores',
  usage: 'caption score --vectors <file.json>',
  options: {
    vectors: { type: 'string', description: 'test-vector JSON (references + systems with corpus/per-image scores)' },
  },
  async run({ positionals, values }) {
    if (positionals.length !== 0) throw new PipelineError('usage', 'score takes no positional arguments');
    const file = values.vectors;
    if (typeof file !== 'string' || file === '') throw new PipelineError('usage', 'score needs --vectors <file.json>');
    let json: unknown;
    try {
      json = JSON.parse(await readFile(path.resolve(file), 'utf8'));
    } catch (err) {
      throw new PipelineError('input', `cannot read test vectors ${file}: ${(err as Error).message}`);
    }
    let deviations;
    try {
      deviations = checkMetricVectors(json);
    } catch (err) {
      throw new PipelineError('input', `${file}: ${(err as Error).message}`);
    }
    for (const d of deviations) {
      process.stdout.write(`${d.metric} max deviation ${d.maxDeviation.toExponential(3)} (system ${d.system || '-'}, ${d.checked} values)\n`);
    }
    const failed = deviations.filter((d) => !(d.maxDeviation <= SCORE_TOLERANCE));
    if (failed.length > 0) {
      throw new PipelineError('quality', `scores deviate by more than ${SCORE_TOLERANCE}: ${failed.map((d) => `${d.metric} (${d.system})`).join(', ')}`);
    }
  },
};
