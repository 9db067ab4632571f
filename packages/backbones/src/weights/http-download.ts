/**
 * One URL into one `.part` file over node:http / node:https (no dependencies): redirects followed (at most 5),
 * a dropped or stalled connection resumed with `Range: bytes=<part size>-` (206 appends, 200 starts over),
 * a few attempts in a row before giving up. Hashing, locking and installing the file are the caller's
 * (weights/fetch.ts).
 *
 * Time bounds: getting a response (DNS, connect, headers; all retries included) must happen before a deadline
 * `deadlineMs` from the start, pushed on each time bytes arrive; a connection that is streaming bytes may take
 * as long as it needs, unless it goes silent for `stallMs` (then it is dropped and resumed).
 */
import http from 'node:http';
import https from 'node:https';
import { open, stat, unlink } from 'node:fs/promises';

export interface DownloadOptions {
  /** Milliseconds to get a response (pushed on whenever bytes arrive). */
  deadlineMs: number;
  /** Milliseconds of silence on a streaming connection before it is dropped and resumed (default 30000). */
  stallMs?: number;
  /** Failed attempts in a row (no bytes received) before giving up (default 5). */
  attempts?: number;
  /** A response is streaming: `offset` bytes are already in the part file, `total` the whole size if known. */
  onStart?: (offset: number, total: number | undefined) => void;
  onBytes?: (n: number) => void;
  /** An attempt failed and another follows. */
  onRetry?: (reason: string, attempt: number, attempts: number) => void;
}

/** The download cannot succeed (`reason` says why, for a message that also says what to do). */
export class DownloadFailed extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'DownloadFailed';
  }
}

const MAX_REDIRECTS = 5;
const REDIRECT = new Set([301, 302, 303, 307, 308]);
/** Failures worth no retry: the name does not resolve, the server refuses the file. */
class Permanent extends Error {}

/** Download `url` into `part` (resuming what is there); resolves when `part` holds the complete body. */
export async function downloadToPart(url: string, part: string, opts: DownloadOptions): Promise<void> {
  const attempts = opts.attempts ?? 5;
  let deadline = Date.now() + opts.deadlineMs;
  let failures = 0;
  for (;;) {
    const got = { bytes: 0 };
    try {
      if (await attempt(url, part, deadline, got, opts)) return;
      throw new Error('the server closed the connection before the end of the file');
    } catch (err) {
      if (got.bytes > 0) {
        failures = 0;
        deadline = Date.now() + opts.deadlineMs;
      }
      failures += 1;
      const reason = describe(err);
      if (err instanceof Permanent || failures >= attempts || Date.now() >= deadline) throw new DownloadFailed(reason);
      opts.onRetry?.(reason, failures + 1, attempts);
      await sleep(Math.min(250 * 2 ** (failures - 1), 4000, Math.max(0, deadline - Date.now())));
    }
  }
}

/** One request (redirects followed) and its body into `part`; true when the part file is complete. */
async function attempt(url: string, part: string, deadline: number, got: { bytes: number }, opts: DownloadOptions): Promise<boolean> {
  const offset = await sizeOf(part);
  const res = await follow(new URL(url), offset, deadline);
  const status = res.statusCode ?? 0;
  const range = /^bytes (?:(\d+)-\d+|\*)\/(\d+)$/.exec(res.headers['content-range'] ?? '');
  if (status === 416) {
    res.resume();
    if (range && Number(range[2]) === offset && offset > 0) return true; // the part already holds the whole file
    await unlink(part).catch(() => {});
    throw new Error('the server refused to resume (HTTP 416): starting over');
  }
  if (status === 206 && (!range || Number(range[1]) !== offset)) {
    res.destroy();
    await unlink(part).catch(() => {});
    throw new Error(`the server resumed at the wrong place (${res.headers['content-range']}): starting over`);
  }
  if (status !== 200 && status !== 206) {
    res.resume();
    const msg = `HTTP ${status} ${res.statusMessage ?? ''}`.trim();
    throw status >= 500 || status === 408 || status === 429 ? new Error(msg) : new Permanent(msg);
  }
  const start = status === 206 ? offset : 0;
  const length = res.headers['content-length'] === undefined ? undefined : Number(res.headers['content-length']);
  const total = range ? Number(range[2]) : length === undefined ? undefined : start + length;
  opts.onStart?.(start, total);
  res.setTimeout(opts.stallMs ?? 30_000, () => res.destroy(new Error(`no data for ${(opts.stallMs ?? 30_000) / 1000} s`)));
  const fh = await open(part, start > 0 ? 'a' : 'w');
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      await fh.write(chunk);
      got.bytes += chunk.length;
      opts.onBytes?.(chunk.length);
    }
  } finally {
    await fh.close();
  }
  return total === undefined ? res.complete : start + got.bytes >= total;
}

/** GET `url` (with a Range header when resuming), following redirects; the final response. */
async function follow(url: URL, offset: number, deadline: number) {
  for (let hops = 0; ; hops++) {
    const res = await request(url, offset, deadline);
    const location = res.headers.location;
    if (!REDIRECT.has(res.statusCode ?? 0) || !location) return res;
    res.resume();
    if (hops >= MAX_REDIRECTS) throw new Permanent(`more than ${MAX_REDIRECTS} redirects (last to ${location})`);
    url = new URL(location, url);
  }
}

function request(url: URL, offset: number, deadline: number): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const get = url.protocol === 'https:' ? https.get : url.protocol === 'http:' ? http.get : undefined;
    if (!get) return reject(new Permanent(`unsupported URL scheme ${url.protocol} (${url.href})`));
    const headers = offset > 0 ? { Range: `bytes=${offset}-` } : {};
    // agent: false -> a fresh connection, closed after the response (no idle keep-alive sockets left behind)
    const req = get(url, { headers, agent: false }, (res) => {
      clearTimeout(timer);
      res.on('error', () => {}); // surfaced by the body loop (or its completeness check), never unhandled
      resolve(res);
    });
    const waitMs = Math.max(0, deadline - Date.now());
    const timer = setTimeout(() => req.destroy(new Error(`no response within ${Math.round(waitMs / 1000)} s`)), waitMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      const code = (err as NodeJS.ErrnoException).code;
      reject(code === 'ENOTFOUND' ? new Permanent(`the host ${url.hostname} cannot be resolved (${code})`) : err);
    });
  });
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ECONNREFUSED') return `connection refused (${e.message.replace(/^connect /, '')})`;
  return e?.message || String(err);
}

const sizeOf = (file: string) => stat(file).then((s) => s.size, () => 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
