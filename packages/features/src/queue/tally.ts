/**
 * Images done per job and per worker: the coordinator's bar (images/s overall, and per worker in its note)
 * and its closing lines.
 */
import type { ShardProgressEvent, ShardResult } from './jobs.ts';

export class WorkerTally {
  private readonly doneByJob = new Map<string, number>();
  private readonly live = new Map<string, { images: number; since: number }>();
  private readonly byWorker = new Map<string, { images: number; seconds: number; shards: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The images newly done by this event (a retried job starts again from 0: nothing counts twice). */
  progress(jobId: string, e: ShardProgressEvent): number {
    const before = this.doneByJob.get(jobId) ?? 0;
    if (e.done <= before) return 0;
    this.doneByJob.set(jobId, e.done);
    const w = this.live.get(e.worker) ?? { images: 0, since: this.now() };
    this.live.set(e.worker, { ...w, images: w.images + e.done - before });
    return e.done - before;
  }

  /** `host:pid 12.3/s, ...`: each worker's rate since its first progress event. */
  rates(): string {
    return [...this.live].sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([worker, w]) => `${worker} ${(w.images / Math.max((this.now() - w.since) / 1000, 1e-3)).toFixed(1)}/s`).join(', ');
  }

  finished(r: ShardResult): void {
    const w = this.byWorker.get(r.worker) ?? { images: 0, seconds: 0, shards: 0 };
    this.byWorker.set(r.worker, { images: w.images + r.images + r.failed.length, seconds: w.seconds + r.seconds, shards: w.shards + 1 });
  }

  summary(): string[] {
    return [...this.byWorker].sort(([a], [b]) => (a < b ? -1 : 1)).map(([worker, w]) =>
      `worker ${worker}: ${w.shards} shard(s), ${w.images} images in ${w.seconds.toFixed(1)} s (${(w.images / Math.max(w.seconds, 1e-9)).toFixed(1)} images/s)`);
  }
}
