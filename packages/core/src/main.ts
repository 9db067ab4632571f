/** The only place that turns errors into exit codes (library code throws `PipelineError`). */
import { PipelineError } from './errors.ts';
import { withLock } from './lock.ts';
import { createLogger } from './log.ts';
import type { StageName } from './paths.ts';
import { readStageParams, type StageParamsFile } from './stage-params.ts';

export function runMain(fn: () => Promise<void>, usage?: string): void {
  fn().then(
    () => exit(process.exitCode ?? 0),
    (err: unknown) => {
      if (err instanceof PipelineError) {
        process.stderr.write(`error: ${err.message}\n`);
        if (err.code === 'usage' && usage) process.stderr.write(`\n${usage}\n`);
        return exit(err.code === 'usage' ? 2 : err.code === 'locked' ? 75 : 1);
      }
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      return exit(1);
    },
  );
}

/**
 * Exit once stdout and stderr are flushed: writes to a pipe are asynchronous, and `process.exit` would cut off
 * whatever the pipe had not taken yet (a long `caption runs --json` ended mid-record). The explicit exit is still
 * needed: worker threads or TF.js handles may keep the event loop alive.
 */
async function exit(code: number | string): Promise<never> {
  const flush = (s: NodeJS.WriteStream) => new Promise<void>((resolve) => (s.writableLength ? s.write('', () => resolve()) : resolve()));
  await flush(process.stdout);
  await flush(process.stderr);
  process.exit(code);
}

/**
 * A stage's `turbo run` entry: under the workspace lock (its `caption run`'s, or its own when started straight
 * from `turbo run`), its resolved params in, then one closing line with wall time and peak RSS. Those go to the
 * log, never into artifacts (they differ run to run, artifacts must not).
 */
export function runStage<P>(stage: StageName, run: (resolved: StageParamsFile<P>) => Promise<unknown>): void {
  runMain(() => withLock(`stage ${stage} (turbo run)`, async () => {
    const started = performance.now();
    await run(await readStageParams<P>(stage));
    const peakMiB = process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
    createLogger(stage).info(`finished in ${((performance.now() - started) / 1000).toFixed(1)} s, peak RSS ${peakMiB.toFixed(0)} MiB`);
  }));
}
