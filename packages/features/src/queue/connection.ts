/**
 * The queue's Redis: `CAPTION_QUEUE=redis://host:port[/db]` (or `caption worker --queue`). Checked with one
 * PING before anything is enqueued or written, so an unreachable Redis is a clear error, not a hang.
 */
import { Redis } from 'ioredis';
import { PipelineError } from '@caption/core';

export const QUEUE_ENV = 'CAPTION_QUEUE';
/** One BullMQ queue holds the shard jobs and their merge jobs of every run. */
export const QUEUE_NAME = 'caption-features';

export const queueUrl = (): string | undefined => process.env[QUEUE_ENV] || undefined;

export function connectionOf(url: string) {
  const u = parseUrl(url);
  return {
    host: u.hostname, port: Number(u.port || 6379), db: Number(u.pathname.slice(1) || 0),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}), ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    maxRetriesPerRequest: null, // BullMQ's blocking calls must wait, not fail
  };
}

export async function checkRedis(url: string, timeoutMs = 5000): Promise<void> {
  const { maxRetriesPerRequest: _, ...opts } = connectionOf(url);
  const client = new Redis({ ...opts, lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  let cause: Error | undefined; // the socket's error (ECONNREFUSED...) says more than the closed connection
  client.on('error', (err: Error) => (cause ??= err));
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    throw new PipelineError('input', `cannot reach Redis at ${url} (${QUEUE_ENV}): ${(cause ?? err as Error).message}; ` +
      `start redis-server there, or unset ${QUEUE_ENV} to extract features in this process`);
  } finally {
    client.disconnect();
  }
}

function parseUrl(url: string): URL {
  try {
    const u = new URL(url);
    if (u.protocol !== 'redis:') throw new Error(`protocol ${u.protocol}`);
    return u;
  } catch (err) {
    throw new PipelineError('usage', `${QUEUE_ENV}=${url} is not a redis://host:port URL (${(err as Error).message})`);
  }
}
