/**
 * `caption run <pipeline.yaml>`: resolve the YAML into per-stage params files, then `turbo run evaluate`
 * so every stage is a cached Turbo task; print the evaluation report at the end.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError, artifactDir, repoRoot } from '@caption/core';
import { resolvePipeline, writeParamsFiles } from '../pipeline.ts';
import type { Command } from '../command.ts';

export const runCommand: Command = {
  name: 'run',
  summary: 'resolve a pipeline and run its stages through Turbo (cached); prints the BLEU report',
  usage: 'caption run <pipeline.yaml> [--force] [--quiet]',
  options: {
    force: { type: 'boolean', description: 'ignore the Turbo cache and re-run every stage' },
    quiet: { type: 'boolean', description: 'do not print the report at the end' },
  },
  async run({ positionals, values }) {
    if (positionals.length !== 1) throw new PipelineError('usage', 'run takes exactly one pipeline file');
    const resolved = await resolvePipeline(path.resolve(positionals[0]));
    const changed = await writeParamsFiles(resolved);
    process.stderr.write(`[caption] pipeline ${resolved.name}: params changed for ${changed.join(', ') || 'no stage'}\n`);

    const args = ['run', 'evaluate', '--summarize', '--output-logs=new-only'];
    if (values.force) args.push('--force');
    const code = await turbo(args);
    if (code !== 0) throw new PipelineError('internal', `turbo run evaluate failed (exit ${code})`);

    const report = path.join(artifactDir('evaluate'), 'report.md');
    if (!values.quiet && existsSync(report)) process.stdout.write(`\n${await readFile(report, 'utf8')}`);
  },
};

export function turbo(args: string[]): Promise<number> {
  const root = repoRoot();
  const bin = path.join(root, 'node_modules', '.bin', 'turbo');
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', TURBO_NO_UPDATE_NOTIFIER: '1', DO_NOT_TRACK: '1' },
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}
