/**
 * The one error type library code throws. Only the CLI entry point catches it, prints the message
 * (plus usage for `usage` errors) and exits non-zero.
 */
export type PipelineErrorCode =
  | 'usage'        // the user called a command wrongly
  | 'config'       // pipeline YAML / params invalid
  | 'input'        // upstream artifact or data set missing/invalid
  | 'data'         // data rejected under strict rules
  | 'quality'      // an evaluate.min gate failed
  | 'locked'       // another run holds the workspace lock (exit 75: try again later)
  | 'queue'        // a queued job failed for good, or a worker refused it
  | 'internal';

export class PipelineError extends Error {
  constructor(readonly code: PipelineErrorCode, message: string) {
    super(message);
    this.name = 'PipelineError';
  }
}
