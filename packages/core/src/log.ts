/** Stage logging: one prefixed line per event on stderr, so stdout stays free for results. */
export function createLogger(stage: string) {
  return {
    info: (msg: string) => process.stderr.write(`[${stage}] ${msg}\n`),
    warn: (msg: string) => process.stderr.write(`[${stage}] warning: ${msg}\n`),
  };
}
export type Logger = ReturnType<typeof createLogger>;
