/**
 * `features.weights: imagenet`: the official keras.applications weights file of a backbone, fetched once into a
 * cache (`$CAPTION_CACHE`, default ~/.cache/caption/weights) and verified against the hash Keras pins.
 *
 * - A file already in the cache (downloaded earlier or put there by hand) is verified (size when known, md5 /
 *   sha256 when pinned) and used without any network; a sidecar `<file>.verified.json` (size, mtime, hashes)
 *   spares re-hashing an unchanged file. A cached file that fails is refused, never deleted.
 * - Otherwise it is downloaded (`CAPTION_WEIGHTS_MIRROR` / `mirror`: `<mirror>/<file>` instead of the canonical
 *   URL) to `<file>.part`, resumed after a dropped connection, verified, fsynced and renamed into place: the
 *   final name only ever holds a complete, verified file. A download that fails the hash is deleted.
 * - One download across processes: a lock file `<file>.lock` in the cache (the core lock); others wait, saying
 *   who downloads, then use the verified file.
 * - md5 and sha256 are both returned: the sha256 names the weights in manifests even where Keras pins only md5.
 *   With no hash pinned (MobileNetV2) the file is trusted on first use (size checked when known).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PipelineError, acquireLock, createProgress, fsyncPath, writeFileAtomic, type Progress } from '@caption/core';
import { DownloadFailed, downloadToPart } from './http-download.ts';

export interface WeightsFileSpec {
  file: string;      // file name in the cache, e.g. 'inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5'
  url: string;       // canonical URL
  md5?: string;      // the md5 Keras pins (32 hex), when it pins one
  sha256?: string;   // or a sha256 (64 hex)
  bytes?: number;    // expected size, when known
}

export interface FetchWeightsOptions {
  cacheDir?: string;     // default weightsCacheDir(env)
  mirror?: string;       // base URL: `<mirror>/<file>` instead of spec.url (default $CAPTION_WEIGHTS_MIRROR)
  deadlineMs?: number;   // to get a response, retries included (default 30000); a streaming download may take longer
  stallMs?: number;      // silence on a streaming connection before it is dropped and resumed (default 30000)
  env?: NodeJS.ProcessEnv;                                          // CAPTION_CACHE, CAPTION_WEIGHTS_MIRROR, CI
  log?: Pick<NodeJS.WriteStream, 'write'> & { isTTY?: boolean };  // progress and notes (default stderr)
}

export interface FetchedWeights {
  path: string;
  bytes: number;
  sha256: string;
  md5: string;
  downloaded: boolean;   // false: it was in the cache already (or another process downloaded it meanwhile)
}

export const CACHE_ENV = 'CAPTION_CACHE';
export const MIRROR_ENV = 'CAPTION_WEIGHTS_MIRROR';

type Hashes = { size: number; md5: string; sha256: string };

/** Where weights files are cached: $CAPTION_CACHE, default ~/.cache/caption/weights. */
export function weightsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env[CACHE_ENV];
  return dir ? path.resolve(dir) : path.join(os.homedir(), '.cache', 'caption', 'weights');
}

/** The verified weights file in the cache, downloaded first (once across processes) when it is not there. */
export async function fetchWeightsFile(spec: WeightsFileSpec, opts: FetchWeightsOptions = {}): Promise<FetchedWeights> {
  checkSpec(spec);
  const env = opts.env ?? process.env;
  const log = opts.log ?? process.stderr;
  const dest = path.join(path.resolve(opts.cacheDir ?? weightsCacheDir(env)), spec.file);
  const result = (h: Hashes, downloaded: boolean): FetchedWeights => ({ path: dest, bytes: h.size, sha256: h.sha256, md5: h.md5, downloaded });
  const cached = async () => result(await verifyCached(spec, dest), false);
  if (await exists(dest)) return cached();
  await mkdir(path.dirname(dest), { recursive: true });
  const lock = await acquireLock({
    runId: `the download of ${spec.file}`,
    file: `${dest}.lock`,
    onWait: (h) => {
      const where = h.host === os.hostname() ? `pid ${h.pid}` : `pid ${h.pid} on ${h.host}`;
      log.write(`[caption] waiting: ${spec.file} is being downloaded by ${where} (since ${h.started})\n`);
    },
  });
  try {
    if (await exists(dest)) return await cached(); // downloaded by the process we waited for
    return result(await downloadAndInstall(spec, dest, opts, env, log), true);
  } finally {
    await lock.release();
  }
}

/** Download to `<dest>.part` (resuming), verify, fsync, rename into place, record the sidecar. */
async function downloadAndInstall(spec: WeightsFileSpec, dest: string, opts: FetchWeightsOptions, env: NodeJS.ProcessEnv,
  log: NonNullable<FetchWeightsOptions['log']>): Promise<Hashes> {
  const mirror = opts.mirror ?? env[MIRROR_ENV];
  const url = mirror ? `${mirror.replace(/\/+$/, '')}/${encodeURIComponent(spec.file)}` : spec.url;
  checkUrl(url, mirror ? MIRROR_ENV : 'url');
  const part = `${dest}.part`;
  const progress = mbProgress(`download ${spec.file}`, spec.bytes, log, env);
  try {
    await downloadToPart(url, part, {
      deadlineMs: opts.deadlineMs ?? 30_000,
      stallMs: opts.stallMs,
      onStart: progress.start,
      onBytes: progress.bytes,
      onRetry: (reason, n, of) => {
        // a dropped transfer is worth a note; failures to connect end in the one error below
        if (progress.received()) log.write(`[caption] download of ${spec.file} interrupted (${reason}); resuming (attempt ${n} of ${of})\n`);
      },
    });
  } catch (err) {
    throw err instanceof DownloadFailed ? unreachable(spec, url, dest, err.reason) : err;
  } finally {
    progress.stop();
  }
  const got = await hashFile(part);
  const bad = mismatch(spec, got);
  if (bad) {
    await unlink(part).catch(() => {});
    throw new PipelineError('input', `the weights file ${spec.file} downloaded from ${url} does not match: ${bad}. `
      + `The download was deleted; try again, and if this persists, ${mirror ? 'the mirror' : 'the server'} serves another file than the one pinned.`);
  }
  fsyncPath(part);
  await rename(part, dest);
  try {
    fsyncPath(path.dirname(dest)); // the rename itself
  } catch {
    // not every platform can sync a directory
  }
  await writeSidecar(dest, got);
  return got;
}

/** A file already in the cache: its hashes when it matches the spec; refused (not deleted) when not. */
async function verifyCached(spec: WeightsFileSpec, dest: string): Promise<Hashes> {
  const got = await hashesOf(dest);
  const bad = mismatch(spec, got);
  if (bad) {
    throw new PipelineError('input', `the weights file ${dest} does not match ${spec.file}: ${bad}. `
      + `It was not deleted (it may have been put there by hand): delete it to download the file again, `
      + `or replace it with the file from ${spec.url}.`);
  }
  await writeSidecar(dest, got).catch(() => {}); // a read-only cache still works, it is only hashed each time
  return got;
}

/** What differs from the spec ('size got ..., expected ...; md5 got ..., expected ...'), or undefined. */
function mismatch(spec: WeightsFileSpec, got: Hashes): string | undefined {
  const bad: string[] = [];
  if (spec.bytes !== undefined && got.size !== spec.bytes) bad.push(`size got ${got.size} bytes, expected ${spec.bytes}`);
  if (spec.md5 && got.md5 !== spec.md5.toLowerCase()) bad.push(`md5 got ${got.md5}, expected ${spec.md5.toLowerCase()}`);
  if (spec.sha256 && got.sha256 !== spec.sha256.toLowerCase()) bad.push(`sha256 got ${got.sha256}, expected ${spec.sha256.toLowerCase()}`);
  return bad.length ? bad.join('; ') : undefined;
}

/** The one error for a download that cannot happen: what was tried, what the file must be, where to put it by hand. */
function unreachable(spec: WeightsFileSpec, url: string, dest: string, reason: string): PipelineError {
  const hashes = [spec.md5 && `md5 ${spec.md5}`, spec.sha256 && `sha256 ${spec.sha256}`].filter(Boolean).join(', ');
  const size = spec.bytes !== undefined ? `, ${spec.bytes} bytes` : '';
  const canonical = url === spec.url ? '' : ` (canonical URL ${spec.url})`;
  return new PipelineError('input', [
    `cannot download the weights file ${spec.file} from ${url}${canonical}: ${reason}.`,
    `Expected file: ${spec.file} (${hashes || 'Keras pins no hash for this file'}${size}).`,
    `To install it by hand, download ${spec.url} where the network allows and put it at ${dest}`,
    `(the cache directory is $${CACHE_ENV}, default ~/.cache/caption/weights; ${MIRROR_ENV}=<base URL> downloads <base URL>/${spec.file} instead).`,
  ].join('\n'));
}

/** Hashes of a file, from its sidecar when that describes the file as it is (same size and mtime). */
async function hashesOf(file: string): Promise<Hashes> {
  const st = await stat(file);
  const known = await readFile(sidecarOf(file), 'utf8').then((t) => JSON.parse(t) as Partial<Hashes> & { mtimeMs?: number }).catch(() => undefined);
  if (known && known.size === st.size && known.mtimeMs === st.mtimeMs && typeof known.md5 === 'string' && typeof known.sha256 === 'string') {
    return { size: known.size, md5: known.md5, sha256: known.sha256 };
  }
  return hashFile(file);
}

async function hashFile(file: string): Promise<Hashes> {
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    md5.update(chunk);
    sha256.update(chunk);
    size += chunk.length;
  }
  return { size, md5: md5.digest('hex'), sha256: sha256.digest('hex') };
}

const sidecarOf = (file: string) => `${file}.verified.json`;

async function writeSidecar(file: string, h: Hashes): Promise<void> {
  const st = await stat(file);
  await writeFileAtomic(sidecarOf(file), `${JSON.stringify({ size: st.size, mtimeMs: st.mtimeMs, md5: h.md5, sha256: h.sha256 })}\n`);
}

const exists = (p: string) => stat(p).then(() => true, () => false);

function checkSpec(spec: WeightsFileSpec): void {
  const bad = (what: string) => new PipelineError('config', `weights file ${JSON.stringify(spec.file)}: ${what}`);
  if (!spec.file || spec.file !== path.basename(spec.file) || spec.file.startsWith('.')) throw bad('file must be a plain file name');
  if (spec.md5 !== undefined && !/^[0-9a-f]{32}$/i.test(spec.md5)) throw bad(`md5 must be 32 hex digits, not ${spec.md5}`);
  if (spec.sha256 !== undefined && !/^[0-9a-f]{64}$/i.test(spec.sha256)) throw bad(`sha256 must be 64 hex digits, not ${spec.sha256}`);
  if (spec.bytes !== undefined && !(Number.isInteger(spec.bytes) && spec.bytes > 0)) throw bad(`bytes must be a positive integer, not ${spec.bytes}`);
  checkUrl(spec.url, 'url');
}

function checkUrl(url: string, what: string): void {
  if (!/^https?:$/.test(URL.canParse(url) ? new URL(url).protocol : '')) throw new PipelineError('config', `${what}: ${JSON.stringify(url)} is not an http(s) URL`);
}

/** Progress in whole MB (1e6 bytes); a download that starts over gets a fresh display. */
function mbProgress(label: string, expected: number | undefined, stream: NonNullable<FetchWeightsOptions['log']>, env: NodeJS.ProcessEnv) {
  const MB = 1e6;
  let p: Progress | undefined;
  let bytes = 0;
  let shown = 0;
  const show = (upTo: number) => {
    if (upTo > shown) p?.tick(upTo - shown);
    shown = Math.max(shown, upTo);
  };
  return {
    start: (offset: number, total: number | undefined) => {
      if (p && offset === bytes) return; // resumed where the last attempt stopped
      p?.stop();
      p = createProgress(label, Math.ceil((total ?? expected ?? 0) / MB), 'MB', { stream, env });
      bytes = offset;
      shown = Math.floor(offset / MB);
      p.skip(shown);
    },
    bytes: (n: number) => {
      bytes += n;
      show(Math.floor(bytes / MB));
    },
    received: () => bytes > 0,
    stop: () => {
      show(Math.ceil(bytes / MB));
      p?.stop();
    },
  };
}
