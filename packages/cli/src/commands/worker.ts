/**
 * `caption worker`: extract features for queued shards (CAPTION_QUEUE or --queue) until stopped. Run it on
 * any machine with this checkout installed; jobs planned by another code version are refused.
 */
import { PipelineError } from '@caption/core';
import { QUEUE_ENV, startWorker } from '@caption/features/worker';
import type { Command } from '../command.ts';

export const workerCommand: Command = {
  name: 'worker',
  summary: 'take features shard jobs from the queue (BullMQ on Redis) until stopped (Ctrl-C lets the current job finish)',
  usage: 'caption worker [--queue redis://host:port] [--concurrency n] [--threads n]',
  options: {
    queue: { type: 'string', description: `the Redis to take jobs from (default: $${QUEUE_ENV})` },
    concurrency: { type: 'string', description: 'jobs at once (default 1)' },
    threads: { type: 'string', description: 'ONNX Runtime threads per job (default: one per core)' },
  },
  async run({ values }) {
    const url = (values.queue as string | undefined) ?? process.env[QUEUE_ENV];
    if (!url) throw new PipelineError('usage', `no queue: pass --queue redis://host:port or set ${QUEUE_ENV}`);
    const worker = await startWorker({
      url, concurrency: positive(values.concurrency, 'concurrency'), threads: positive(values.threads, 'threads'),
      lockMs: positive(process.env.CAPTION_QUEUE_LOCK_MS, 'CAPTION_QUEUE_LOCK_MS'),
    });
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = () => {
        if (stopping) { // the job in hand goes back to the queue when its lock expires
          process.stderr.write('[worker] stopping now\n');
          return void worker.stop(true).then(resolve);
        }
        stopping = true;
        process.stderr.write('[worker] stopping after the job in hand (signal again to stop now)\n');
        void worker.stop().then(resolve);
      };
      process.on('SIGINT', stop).on('SIGTERM', stop);
    });
  },
};

function positive(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new PipelineError('usage', `${what} must be a positive integer, got ${String(v)}`);
  return n;
}
