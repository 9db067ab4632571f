/**
 * The weights download (`fetchWeightsFile`) against a real loopback HTTP server serving random bytes written
 * here (hashes computed here): download into the cache, resume after a dropped connection, hash mismatch,
 * one download for three processes at once, offline errors, files put in the cache by hand, redirects.
 * No timing asserts but the 30 s bound for the offline case; processes are coordinated by events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PipelineError } from '@caption/core';
import { fetchWeightsFile, weightsCacheDir, type WeightsFileSpec } from '../src/weights/fetch.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const CHILD = path.join(here, 'helpers/fetch-child.ts');
const FILE = 'inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const specOf = (body: Buffer, url: string, extra: Partial<WeightsFileSpec> = {}): WeightsFileSpec =>
  ({ file: FILE, url, md5: md5(body), bytes: body.length, ...extra });

interface Seen { path: string; range?: string }
type Handler = (req: http.IncomingMessage, res: http.ServerResponse, nth: number) => void;

/** A loopback server; `seen` lists every request (path, Range header). */
async function startServer(handler: Handler) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ path: req.url ?? '', range: req.headers.range });
    handler(req, res, seen.length);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () => new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });
  return { base, seen, close };
}

/** Serve `body` honouring `Range: bytes=<n>-` (206); `first`: how to write the bytes of this response. */
function sendFile(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer,
  write: (res: http.ServerResponse, rest: Buffer) => void = (r, rest) => r.end(rest)) {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = m ? Number(m[1]) : 0;
  if (start >= body.length) {
    res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
    return;
  }
  res.writeHead(m ? 206 : 200, {
    'Content-Length': body.length - start,
    ...(m ? { 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
  });
  write(res, body.subarray(start));
}

async function withCache(fn: (dir: string) => Promise<void>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weights-fetch-'));
  try {
    await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Options for a call: no env (no user mirror / cache), notes collected instead of printed. */
function quiet(cacheDir: string, extra: { mirror?: string; deadlineMs?: number } = {}) {
  const lines: string[] = [];
  return { lines, opts: { cacheDir, env: {}, log: { write: (s: string) => (lines.push(s), true) }, ...extra } };
}

const bodyGets = (seen: Seen[], p: string) => seen.filter((s) => s.path === p).length;

test('fetch: downloads into the cache (right bytes, no .part left, sidecar); a second call makes no request', async () => {
  const body = randomBytes(3 * 1024 * 1024 + 17);
  const srv = await startServer((req, res) => sendFile(req, res, body));
  try {
    await withCache(async (dir) => {
      const { opts, lines } = quiet(dir, { mirror: `${srv.base}/m/` });
      const r = await fetchWeightsFile(specOf(body, 'https://storage.example/never-used.h5'), opts);
      assert.deepEqual(r, { path: path.join(dir, FILE), bytes: body.length, md5: md5(body), sha256: sha256(body), downloaded: true });
      assert.ok(fs.readFileSync(r.path).equals(body));
      assert.ok(!fs.existsSync(`${r.path}.part`) && !fs.existsSync(`${r.path}.lock`));
      assert.equal(JSON.parse(fs.readFileSync(`${r.path}.verified.json`, 'utf8')).sha256, sha256(body));
      assert.deepEqual(srv.seen, [{ path: `/m/${FILE}`, range: undefined }]);
      assert.ok(lines.some((l) => l.includes(`download ${FILE}`) && l.includes('MB')), lines.join(''));
      const again = await fetchWeightsFile(specOf(body, 'https://storage.example/never-used.h5'), opts);
      assert.deepEqual(again, { ...r, downloaded: false });
      assert.equal(srv.seen.length, 1, 'the cached file is used without any request');
    });
  } finally {
    await srv.close();
  }
});

test('fetch: a connection dropped halfway is resumed with a Range request; the file is complete and right', async () => {
  const body = randomBytes(4 * 1024 * 1024);
  const srv = await startServer((req, res, nth) => sendFile(req, res, body, nth === 1
    ? (r, rest) => r.write(rest.subarray(0, rest.length / 2), () => r.socket?.destroy())
    : undefined));
  try {
    await withCache(async (dir) => {
      const { opts, lines } = quiet(dir);
      const r = await fetchWeightsFile(specOf(body, `${srv.base}/w/${FILE}`, { sha256: sha256(body) }), opts);
      assert.ok(fs.readFileSync(r.path).equals(body));
      assert.equal(srv.seen.length, 2, JSON.stringify(srv.seen));
      assert.equal(srv.seen[0].range, undefined);
      const n = Number(/^bytes=(\d+)-$/.exec(srv.seen[1].range ?? '')?.[1]);
      assert.ok(n > 0 && n <= body.length / 2, `resumed at ${srv.seen[1].range}`);
      assert.ok(lines.some((l) => l.includes('interrupted')), lines.join(''));
      assert.ok(!fs.existsSync(`${r.path}.part`));
    });
  } finally {
    await srv.close();
  }
});

test('fetch: a download that fails the pinned hash is refused (expected and got named) and deleted', async () => {
  const body = randomBytes(1024 * 1024);
  const srv = await startServer((req, res) => sendFile(req, res, body));
  try {
    await withCache(async (dir) => {
      const wrong = md5(Buffer.from('another file'));
      const url = `${srv.base}/w/${FILE}`;
      await assert.rejects(fetchWeightsFile(specOf(body, url, { md5: wrong }), quiet(dir).opts), (err: unknown) => {
        assert.ok(err instanceof PipelineError, String(err));
        assert.match(err.message, new RegExp(`md5 got ${md5(body)}, expected ${wrong}`));
        assert.ok(err.message.includes(url), err.message);
        return true;
      });
      assert.deepEqual(fs.readdirSync(dir), [], 'nothing under the final name, no .part, no lock');
    });
  } finally {
    await srv.close();
  }
});

test('fetch: three processes asking at once make one download; the others wait, then use it', { timeout: 120_000 }, async () => {
  const body = randomBytes(4 * 1024 * 1024);
  let arrived: http.ServerResponse[] = [];
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const fallback = setTimeout(release, 30_000); // a broken lock must fail the count below, not hang the test
  const srv = await startServer((req, res) => {
    if (req.url === '/barrier') {
      arrived.push(res);
      if (arrived.length === 3) (arrived.forEach((r) => r.end('go')), (arrived = []));
      return;
    }
    // half the file at once, the rest only once the other two processes say they are waiting
    sendFile(req, res, body, (r, rest) => r.write(rest.subarray(0, rest.length / 2), () => void released.then(() => r.end(rest.subarray(rest.length / 2)))));
  });
  try {
    await withCache(async (dir) => {
      const spec = specOf(body, 'https://storage.example/never-used.h5', { sha256: sha256(body) });
      const waits: string[] = [];
      const runs = [0, 1, 2].map(() => new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(spec), dir, `${srv.base}/m`, `${srv.base}/barrier`], { cwd: repo });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => {
          err += d;
          for (const line of String(d).split('\n').filter((l) => l.includes('[caption] waiting:'))) waits.push(line);
          if (waits.length >= 2) release();
        });
        child.on('close', (code) => resolve({ code, out, err }));
      }));
      const results = await Promise.all(runs);
      for (const r of results) assert.equal(r.code, 0, r.err);
      const got = results.map((r) => JSON.parse(r.out) as { pid: number; path: string; sha256: string; downloaded: boolean });
      assert.equal(bodyGets(srv.seen, `/m/${FILE}`), 1, JSON.stringify(srv.seen));
      assert.deepEqual(new Set(got.map((g) => g.path)), new Set([path.join(dir, FILE)]));
      assert.ok(got.every((g) => g.sha256 === sha256(body)));
      const downloader = got.filter((g) => g.downloaded);
      assert.equal(downloader.length, 1);
      assert.equal(waits.length, 2, waits.join('\n'));
      for (const w of waits) assert.ok(w.includes(`${FILE} is being downloaded by pid ${downloader[0].pid}`), w);
      assert.ok(fs.readFileSync(path.join(dir, FILE)).equals(body));
    });
  } finally {
    clearTimeout(fallback);
    release();
    await srv.close();
  }
});

test('fetch: offline (closed port, unresolvable host) fails in < 30 s with one error saying what and where', async () => {
  const closed = await startServer(() => {});
  await closed.close(); // nothing listens on this port now
  await withCache(async (dir) => {
    const cases: WeightsFileSpec[] = [
      { file: FILE, url: `${closed.base}/keras/${FILE}`, md5: 'bcbd6486424b2319ff4ef7d526e38f63' },
      { file: 'mobilenet_v2_weights.h5', url: 'http://weights.invalid/keras/mobilenet_v2_weights.h5', bytes: 9_406_464 },
    ];
    for (const spec of cases) {
      const t0 = Date.now();
      await assert.rejects(fetchWeightsFile(spec, quiet(dir).opts), (err: unknown) => {
        assert.ok(err instanceof PipelineError, String(err));
        for (const part of [spec.url, spec.file, path.join(dir, spec.file), 'CAPTION_CACHE', spec.md5 ?? 'Keras pins no hash for this file']) {
          assert.ok(err.message.includes(part), `${JSON.stringify(part)} missing from:\n${err.message}`);
        }
        return true;
      });
      assert.ok(Date.now() - t0 < 30_000, `took ${Date.now() - t0} ms`);
    }
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});

test('fetch: a file put in the cache by hand is verified and used with no server; a wrong one is refused, not deleted', async () => {
  const body = randomBytes(512 * 1024);
  await withCache(async (dir) => {
    const spec = specOf(body, 'http://127.0.0.1:9/nothing-listens-here.h5');
    fs.writeFileSync(path.join(dir, FILE), body);
    const r = await fetchWeightsFile(spec, quiet(dir).opts);
    assert.deepEqual(r, { path: path.join(dir, FILE), bytes: body.length, md5: md5(body), sha256: sha256(body), downloaded: false });

    const other = randomBytes(512 * 1024);
    fs.writeFileSync(path.join(dir, FILE), other);
    await assert.rejects(fetchWeightsFile(spec, quiet(dir).opts), (err: unknown) => {
      assert.ok(err instanceof PipelineError, String(err));
      assert.ok(err.message.includes(`md5 got ${md5(other)}, expected ${md5(body)}`), err.message);
      assert.ok(err.message.includes(path.join(dir, FILE)) && err.message.includes('not deleted'), err.message);
      return true;
    });
    assert.ok(fs.readFileSync(path.join(dir, FILE)).equals(other), 'a file placed by hand is never deleted');
  });
});

test('fetch: redirects are followed (302 to another path)', async () => {
  const body = randomBytes(256 * 1024);
  const srv = await startServer((req, res) => {
    if (req.url?.startsWith('/old/')) res.writeHead(302, { Location: `/new/${FILE}` }).end();
    else sendFile(req, res, body);
  });
  try {
    await withCache(async (dir) => {
      const r = await fetchWeightsFile(specOf(body, `${srv.base}/old/${FILE}`), quiet(dir).opts);
      assert.ok(fs.readFileSync(r.path).equals(body));
      assert.deepEqual(srv.seen.map((s) => s.path), [`/old/${FILE}`, `/new/${FILE}`]);
    });
  } finally {
    await srv.close();
  }
});

test('fetch: the cache dir is $CAPTION_CACHE, default ~/.cache/caption/weights', () => {
  assert.equal(weightsCacheDir({ CAPTION_CACHE: '/data/w' }), '/data/w');
  assert.equal(weightsCacheDir({}), path.join(os.homedir(), '.cache/caption/weights'));
});
