/** The only place that turns errors into exit codes (library code throws `PipelineError`). */
import { PipelineError } from './errors.ts';

export function runMain(fn: () => Promise<void>, usage?: string): void {
  fn().then(
    () => process.exit(process.exitCode ?? 0),
    (err: unknown) => {
      if (err instanceof PipelineError) {
        process.stderr.write(`error: ${err.message}\n`);
        if (err.code === 'usage' && usage) process.stderr.write(`\n${usage}\n`);
        process.exit(err.code === 'usage' ? 2 : 1);
      }
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
