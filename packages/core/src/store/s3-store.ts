/**
 * The store in S3-compatible object storage: `CAPTION_STORE=s3://bucket/prefix`. Credentials and region come
 * from the AWS SDK's usual environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, default
 * us-east-1); `CAPTION_S3_ENDPOINT` points it at another S3-compatible server (path-style requests). A PUT is
 * atomic (an object is complete or absent) and the bytes are hashed before they are sent and after they come
 * back, so the same guarantees hold as for a directory.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { PipelineError } from '../errors.ts';
import { sha256 } from '../hash.ts';
import { fsyncPath } from '../io/atomic.ts';
import type { FileEntry } from '../io/manifest.ts';
import { assertSha256, damaged, objectKey, refKey, type ContentStore } from './content-store.ts';

export const S3_ENDPOINT_ENV = 'CAPTION_S3_ENDPOINT';

export class S3Store implements ContentStore {
  private sdk?: Promise<{ client: S3Client; s3: typeof import('@aws-sdk/client-s3') }>;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(readonly location: string, private readonly endpoint = process.env[S3_ENDPOINT_ENV]) {
    const u = new URL(location);
    this.bucket = u.hostname;
    this.prefix = u.pathname.replace(/^\/+|\/+$/g, '');
  }

  /** The SDK loads on first use: every stage imports core, few of them talk to S3. */
  private async send<T>(make: (s3: typeof import('@aws-sdk/client-s3')) => unknown): Promise<T> {
    this.sdk ??= import('@aws-sdk/client-s3').then((s3) => ({
      s3, client: new s3.S3Client({
        region: process.env.AWS_REGION ?? 'us-east-1',
        ...(this.endpoint ? { endpoint: this.endpoint, forcePathStyle: true } : {}),
        // the bytes are checked by sha256 both ways; the SDK's own CRC headers are not understood by every S3-compatible server
        requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
      }),
    }));
    const { client, s3 } = await this.sdk;
    return client.send(make(s3) as never) as Promise<T>;
  }

  private key(rel: string): string {
    return this.prefix ? `${this.prefix}/${rel}` : rel;
  }

  async has(sha: string): Promise<boolean> {
    assertSha256(sha);
    try {
      await this.send((s3) => new s3.HeadObjectCommand({ Bucket: this.bucket, Key: this.key(objectKey(sha)) }));
      return true;
    } catch (err) {
      if (notFound(err)) return false;
      throw this.failed('HEAD', objectKey(sha), err);
    }
  }

  async putFile(file: string, entry: FileEntry): Promise<void> {
    if (await this.has(entry.sha256)) return;
    const bytes = await readFile(file);
    const found = sha256(bytes);
    if (found !== entry.sha256 || bytes.byteLength !== entry.bytes) throw damaged(file, entry, found, bytes.byteLength);
    await this.put(objectKey(entry.sha256), bytes);
  }

  async putBytes(bytes: Uint8Array): Promise<FileEntry> {
    const entry = { sha256: sha256(bytes), bytes: bytes.byteLength };
    if (!(await this.has(entry.sha256))) await this.put(objectKey(entry.sha256), bytes);
    return entry;
  }

  async get(entry: FileEntry): Promise<Uint8Array | undefined> {
    const bytes = await this.read(objectKey(entry.sha256));
    if (!bytes) return undefined;
    const found = sha256(bytes);
    if (bytes.byteLength !== entry.bytes || found !== entry.sha256) throw damaged(`${this.location}/${objectKey(entry.sha256)}`, entry, found, bytes.byteLength);
    return bytes;
  }

  async fetchTo(entry: FileEntry, dest: string): Promise<boolean> {
    const bytes = await this.get(entry);
    if (!bytes) return false;
    const tmp = `${dest}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await writeFile(tmp, bytes, { flag: 'wx' });
      fsyncPath(tmp);
      await rename(tmp, dest);
      fsyncPath(path.dirname(dest));
    } finally {
      await rm(tmp, { force: true });
    }
    return true;
  }

  async getRef<T>(namespace: string, key: string): Promise<T | undefined> {
    const bytes = await this.read(refKey(namespace, key));
    return bytes ? (JSON.parse(Buffer.from(bytes).toString('utf8')) as T) : undefined;
  }

  async putRef(namespace: string, key: string, value: unknown): Promise<void> {
    await this.put(refKey(namespace, key), Buffer.from(JSON.stringify(value)));
  }

  private async put(rel: string, body: Uint8Array): Promise<void> {
    try {
      await this.send((s3) => new s3.PutObjectCommand({ Bucket: this.bucket, Key: this.key(rel), Body: body, ContentLength: body.byteLength }));
    } catch (err) {
      throw this.failed('PUT', rel, err);
    }
  }

  private async read(rel: string): Promise<Uint8Array | undefined> {
    try {
      const r = await this.send<{ Body?: { transformToByteArray(): Promise<Uint8Array> } }>((s3) => new s3.GetObjectCommand({ Bucket: this.bucket, Key: this.key(rel) }));
      return await r.Body!.transformToByteArray();
    } catch (err) {
      if (notFound(err)) return undefined;
      throw this.failed('GET', rel, err);
    }
  }

  private failed(op: string, rel: string, err: unknown): PipelineError {
    return new PipelineError('input', `content store ${this.location}: ${op} ${rel} failed: ${(err as Error).message || (err as Error).name}` +
      `${this.endpoint ? ` (endpoint ${this.endpoint})` : ''}`);
  }
}

const notFound = (err: unknown) => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
};

