import type { WorkspaceLock } from '@caption/core';

/** What a CLI command declares: its name, usage and options as data, and a run function. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, { type: 'string' | 'boolean'; short?: string; description: string }>;
  /** Runs under the workspace lock (it writes params files or artifacts); gets `--no-wait`. */
  locks?: boolean;
  run(args: { positionals: string[]; values: Record<string, string | boolean | undefined>; lock?: WorkspaceLock }): Promise<void>;
}
