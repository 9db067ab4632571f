/** The only place that turns errors into exit codes (library code throws `PipelineError`). */
import { PipelineError } from './errors.ts';
import { withLock } from './lock.ts';
import { createLogger } from './log.ts';
import type { StageName } from './paths.ts';
import { readStageParams, type StageParamsFile } from './stage-params.ts';

export function runMain(fn: () => Promise<void>, usage?: string): void {
  fn().then(
    () => process.exit(process.exitCode ?? 0),
    (err: unknown) => {
      if (err instanceof PipelineError) {
        process.stderr.write(`error: ${err.message}\n`);
        if (err.code === 'usage' && usage) process.stderr.write(`\n${usage}\n`);
        process.exit(err.code === 'usage' ? 2 : err.code === 'locked' ? 75 : 1);
      }
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
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
