/** Images done per job and per worker, for the coordinator's bar and its closing lines (images/s per worker). */
import type { ShardProgressEvent, ShardResult } from './jobs.ts';

export class WorkerTally {
  private readonly doneByJob = new Map<string, number>();
  private readonly byWorker = new Map<string, { images: number; seconds: number; shards: number }>();

  /** The images newly done by this event (a retried job starts again from 0: nothing counts twice). */
  progress(jobId: string, e: ShardProgressEvent): number {
    const before = this.doneByJob.get(jobId) ?? 0;
    if (e.done <= before) return 0;
    this.doneByJob.set(jobId, e.done);
    return e.done - before;
  }

  finished(r: ShardResult): void {
    const w = this.byWorker.get(r.worker) ?? { images: 0, seconds: 0, shards: 0 };
    this.byWorker.set(r.worker, { images: w.images + r.images + r.failed.length, seconds: w.seconds + r.seconds, shards: w.shards + 1 });
  }

  summary(): string[] {
    return [...this.byWorker].sort(([a], [b]) => a.localeCompare(b)).map(([worker, w]) =>
      `worker ${worker}: ${w.shards} shard(s), ${w.images} images in ${w.seconds.toFixed(1)} s (${(w.images / Math.max(w.seconds, 1e-9)).toFixed(1)} images/s)`);
  }
}
