/** `caption <command>`: the user's entry point (`pnpm caption ...` from the repository root). */
import { parseArgs } from 'node:util';
import { PipelineError, runMain } from '@caption/core';
import type { Command } from './command.ts';

// Commands load lazily: `caption resolve` should not pay for TensorFlow.js start-up.
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./commands/run.ts')).runCommand,
  resolve: async () => (await import('./commands/resolve.ts')).resolveCommand,
  score: async () => (await import('./commands/score.ts')).scoreCommand,
  status: async () => (await import('./commands/status.ts')).statusCommand,
  runs: async () => (await import('./commands/runs.ts')).runsCommand,
  diff: async () => (await import('./commands/diff.ts')).diffCommand,
  predict: async () => (await import('./commands/predict.ts')).predictCommand,
};

const USAGE = `usage: caption <command> [options]

commands:
  run <pipeline.yaml>       resolve the pipeline and run every stage through Turbo (cached), print the report
  resolve <pipeline.yaml>   validate the pipeline and write the per-stage params files only
  status <pipeline.yaml>    per stage cached / stale / missing, and why (runs nothing)
  runs                      list the recorded runs (params, BLEU-4/CIDEr-D, wall time, cache hits)
  diff <runA> <runB>        params and metrics of two runs side by side (ids, latest, latest~1, ...)
  score --vectors <file>    check BLEU/CIDEr-D/ROUGE-L against pycocoevalcap test vectors (max deviation per metric)
  predict <images|dirs...>  caption JPEG/PNG/WebP images with a trained checkpoint (--beam, --attention, --json)

run \`caption <command> --help\` for a command's options`;

const [name, ...rest] = process.argv.slice(2);

runMain(async () => {
  if (!name || name === '--help' || name === '-h') {
    process.stdout.write(`${USAGE}\n`);
    if (!name) process.exitCode = 2;
    return;
  }
  const load = COMMANDS[name];
  if (!load) throw new PipelineError('usage', `unknown command '${name}'`);
  const command = await load();
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new PipelineError('usage', `${(err as Error).message}\n\nusage: ${command.usage}`);
  }
  if (parsed.values.help) {
    process.stdout.write(`usage: ${command.usage}\n\n${command.summary}\n${formatOptions(command)}`);
    return;
  }
  await command.run({ positionals: parsed.positionals, values: parsed.values as Record<string, string | boolean | undefined> });
}, USAGE);

function formatOptions(command: Command): string {
  const lines = Object.entries(command.options).map(([k, o]) => `  --${k}${o.type === 'string' ? ' <value>' : ''}  ${o.description}`);
  return lines.length ? `\noptions:\n${lines.join('\n')}\n` : '';
}
