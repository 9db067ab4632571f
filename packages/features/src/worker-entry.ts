/** What `caption worker` needs from the features stage: the queue's worker side. */
export { startWorker, WORKER_ID, type ShardWorker, type WorkerOptions } from './queue/worker.ts';
export { QUEUE_ENV, QUEUE_NAME } from './queue/connection.ts';
