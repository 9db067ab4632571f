/** `caption resolve <pipeline.yaml>`: validate the YAML and write the per-stage params files (runs nothing). */
import path from 'node:path';
import { PipelineError } from '@caption/core';
import { resolvePipeline, writeParamsFiles } from '../pipeline.ts';
import type { Command } from '../command.ts';

export const resolveCommand: Command = {
  name: 'resolve',
  summary: 'validate a pipeline YAML and write .caption/params/<stage>.json',
  usage: 'caption resolve <pipeline.yaml>',
  options: {},
  locks: true,
  async run({ positionals }) {
    if (positionals.length !== 1) throw new PipelineError('usage', 'resolve takes exactly one pipeline file');
    const resolved = await resolvePipeline(path.resolve(positionals[0]));
    const changed = await writeParamsFiles(resolved);
    process.stdout.write(`resolved ${resolved.name}: ${changed.length ? `changed ${changed.join(', ')}` : 'no changes'}\n`);
  },
};
