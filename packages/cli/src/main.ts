/** `caption <command>`: the user's entry point (`pnpm caption ...` from the repository root). */
import { parseArgs } from 'node:util';
import { LOCK_TOKEN_ENV, PipelineError, acquireLock, runMain } from '@caption/core';
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
  worker: async () => (await import('./commands/worker.ts')).workerCommand,
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
  worker                    extract features for shards queued on Redis (CAPTION_QUEUE) until stopped

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
  const options = { ...command.options, ...(command.locks ? { 'no-wait': NO_WAIT } : {}), help: { type: 'boolean' as const, short: 'h' } };
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new PipelineError('usage', `${(err as Error).message}\n\nusage: ${command.usage}`);
  }
  if (parsed.values.help) {
    process.stdout.write(`usage: ${command.usage}\n\n${command.summary}\n${formatOptions(command)}`);
    return;
  }
  const args = { positionals: parsed.positionals, values: parsed.values as Record<string, string | boolean | undefined> };
  if (!command.locks) return command.run(args);
  const lock = await acquireLock({ runId: ['caption', name, ...rest].join(' '), wait: !parsed.values['no-wait'] });
  process.env[LOCK_TOKEN_ENV] = lock.holder.token; // the Turbo tasks it starts run under this lock
  try {
    await command.run({ ...args, lock });
  } finally {
    await lock.release();
  }
}, USAGE);

const NO_WAIT = { type: 'boolean' as const, description: 'when another run holds the workspace lock, fail (exit 75) instead of waiting for it' };

function formatOptions(command: Command): string {
  const all = command.locks ? { ...command.options, 'no-wait': NO_WAIT } : command.options;
  const lines = Object.entries(all).map(([k, o]) => `  --${k}${o.type === 'string' ? ' <value>' : ''}  ${o.description}`);
  return lines.length ? `\noptions:\n${lines.join('\n')}\n` : '';
}
