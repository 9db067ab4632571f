/**
 * sha256 on worker threads: a buffer is transferred to a worker (no copy), hashed there and transferred back,
 * so several large files hash at once on all cores while this thread reads and decodes. For the big reads of a
 * stage (every feature shard of an artifact); small files hash inline.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

const WORKER = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
parentPort.on('message', ({ id, buffer }) => {
  const hex = createHash('sha256').update(new Uint8Array(buffer)).digest('hex');
  parentPort.postMessage({ id, hex, buffer }, [buffer]);
});`;

export interface HashPool {
  /** sha256 of `bytes` (hex) and the same bytes back; `bytes` must own its whole ArrayBuffer (it is moved). */
  hash(bytes: Uint8Array): Promise<{ hex: string; bytes: Uint8Array }>;
  close(): Promise<void>;
}

export function startHashPool(size = Math.max(1, Math.min(4, availableParallelism()))): HashPool {
  const workers = Array.from({ length: size }, () => new Worker(WORKER, { eval: true }));
  const waiting = new Map<number, (r: { hex: string; buffer: ArrayBuffer }) => void>();
  for (const w of workers) w.on('message', (r: { id: number; hex: string; buffer: ArrayBuffer }) => waiting.get(r.id)!(r));
  let next = 0;
  return {
    hash(bytes) {
      if (bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength) throw new Error('hash pool: bytes must own their buffer');
      const id = next++;
      return new Promise((resolve) => {
        waiting.set(id, (r) => (waiting.delete(id), resolve({ hex: r.hex, bytes: new Uint8Array(r.buffer) })));
        workers[id % workers.length].postMessage({ id, buffer: bytes.buffer }, [bytes.buffer as ArrayBuffer]);
      });
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
