/**
 * Data-parallel training on worker threads. TF.js's wasm backend runs on one thread in Node, so a second
 * core only helps if a second TF.js instance works on part of the batch: each step the batch is split by
 * image into `workers` parts, the main thread takes part 0 and every worker replica one other part; a replica
 * gets the current weights, returns its part's gradients and target-token count, and the main thread averages
 * them weighted by tokens (= the gradient of the whole batch's masked mean loss) and applies the optimizer.
 * The split depends on `train.workers`, never on the machine's core count, so a run stays byte-reproducible.
 */
import { Worker } from 'node:worker_threads';
import { PipelineError } from '@caption/core';
import type { TfBackend } from '@caption/core/tf';
import type { Batch } from './batches.ts';
import { type CaptionModelConfig } from '@caption/model';

/** What a replica needs for one part of a step. */
export interface ReplicaTask {
  weights?: Float32Array;     // all model weights, concatenated in model.weights order (absent: keep the last)
  batch: Batch;
  features: Float32Array;     // [batch.imageIds.length, L, D]
  dropoutSeed?: number;       // training: this replica's DropoutSeeds seed, `dropoutCount` its counter at the step start
  dropoutCount?: number;
}

export interface ReplicaResult {
  loss: number;               // the part's masked mean loss (+ penalty)
  tokens: number;             // non-<pad> targets in the part: its weight in the average
  grads: Float32Array;        // concatenated in model.weights order (empty for a loss-only task)
}

/** What a replica needs to sample captions for its part of a self-critical group. */
export interface SampleTask {
  weights: Float32Array;      // all model weights, concatenated in model.weights order
  imageIds: string[];
  features: Float32Array;     // [imageIds.length, L, D]
  samples: number;            // captions per image
  maxLength: number;
  seed: number;               // of this part's sampling stream
}

/** Sampled captions, concatenated, with each one's length (k per image, image by image). */
export interface SampleResult {
  tokens: Int32Array;
  lengths: Int32Array;
}

export interface ReplicaInit {
  config: CaptionModelConfig;
  backend: TfBackend;
  labelSmoothing?: number;    // of the training loss (train.labelSmoothing)
}

type Reply = { ok: true; result?: unknown } | { ok: false; error: string };

class Replica {
  private pending?: { resolve: (r: Reply) => void };

  constructor(private readonly worker: Worker) {
    worker.on('message', (reply: Reply) => this.settle(reply));
    worker.on('error', (err) => this.settle({ ok: false, error: err.stack ?? String(err) }));
    worker.on('exit', (code) => this.settle({ ok: false, error: `replica exited with code ${code}` }));
  }

  private settle(reply: Reply) {
    const p = this.pending;
    this.pending = undefined;
    p?.resolve(reply);
  }

  async call(message: unknown, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.pending) throw new Error('replica is busy');
    const reply = await new Promise<Reply>((resolve) => {
      this.pending = { resolve };
      this.worker.postMessage(message, transfer);
    });
    if (!reply.ok) throw new PipelineError('internal', `training replica failed: ${reply.error}`);
    return reply.result;
  }

  terminate() {
    return this.worker.terminate();
  }
}

export class ReplicaPool {
  private constructor(private readonly replicas: Replica[]) {}

  /** Start `count` replicas of the model (config only: weights come with every task). */
  static async start(count: number, init: ReplicaInit): Promise<ReplicaPool> {
    const pool = new ReplicaPool(Array.from({ length: count }, () => new Replica(spawnWorker())));
    try {
      await Promise.all(pool.replicas.map((r) => r.call({ type: 'init', init })));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  get size(): number {
    return this.replicas.length;
  }

  /** Replica i computes loss and gradients for task i; the task's buffers are handed over, not copied. */
  gradients(tasks: ReplicaTask[]): Promise<ReplicaResult[]> {
    return this.run('step', tasks);
  }

  /** Replica i computes the loss of task i (inference: no dropout, no gradients). */
  losses(tasks: ReplicaTask[]): Promise<ReplicaResult[]> {
    return this.run('loss', tasks);
  }

  /** Replica i samples captions for task i (self-critical training). */
  samples(tasks: SampleTask[]): Promise<SampleResult[]> {
    return this.run('sample', tasks) as Promise<SampleResult[]>;
  }

  private run(type: 'step' | 'loss', tasks: ReplicaTask[]): Promise<ReplicaResult[]>;
  private run(type: 'sample', tasks: SampleTask[]): Promise<unknown[]>;
  private run(type: string, tasks: (ReplicaTask | SampleTask)[]): Promise<unknown[]> {
    if (tasks.length > this.replicas.length) throw new Error(`${tasks.length} tasks for ${this.replicas.length} replicas`);
    return Promise.all(tasks.map((task, i) => this.replicas[i].call(
      { type, task },
      [task.weights?.buffer, task.features.buffer].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer),
    )));
  }

  async close(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.terminate()));
  }
}

/**
 * The worker runs replica-worker.ts. Under tsx (how the stages run from source), a worker does not get the
 * TypeScript loader for its entry module, so a one-line bootstrap registers tsx's ESM hooks first.
 */
function spawnWorker(): Worker {
  const entry = new URL(import.meta.url.endsWith('.ts') ? './replica-worker.ts' : './replica-worker.js', import.meta.url);
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry);
  const tsx = import.meta.resolve('tsx/esm/api');
  return new Worker(
    `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`,
    { eval: true },
  );
}
