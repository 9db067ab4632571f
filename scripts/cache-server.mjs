#!/usr/bin/env node
// A self-hosted Turborepo remote cache (npm `turborepo-remote-cache`) with defaults that fit this pipeline:
//   pnpm cache-server                         # 127.0.0.1:3000, artifacts in .caption/remote-cache/
//   pnpm cache-server --host 0.0.0.0 --port 4000 --storage /srv/turbo-cache
// Prints the three variables each clone / CI job exports to share it. Any of the package's own env vars
// (STORAGE_PROVIDER=s3, LOG_LEVEL, ...) set by the caller win over these defaults.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = 'usage: pnpm cache-server [--host 127.0.0.1] [--port 3000] [--storage .caption/remote-cache] [--token <secret>] [--team caption]';
const { values } = parseArgsOrExit({
  options: {
    host: { type: 'string', default: '127.0.0.1' }, // not $HOST: some shells export it as the machine name
    port: { type: 'string', default: process.env.PORT ?? '3000' },
    storage: { type: 'string', default: process.env.STORAGE_PATH ?? path.join(root, '.caption', 'remote-cache') },
    token: { type: 'string', default: process.env.TURBO_TOKEN },
    team: { type: 'string', default: process.env.TURBO_TEAM ?? 'caption' },
  },
});

// One Turbo artifact is one task's whole output directory (tar + zstd) in one PUT, and the server buffers
// the body in memory before writing it. Feature shards barely compress (float16), so the features artifact
// is about as big as the shards: ~2.0 GB for Flickr8k with inception_v3. The package's default limit
// (100 MiB) would reject it with a 413; 4 GiB - 1 is the most one Node Buffer can hold.
const BODY_LIMIT = process.env.BODY_LIMIT ?? String(2 ** 32 - 1);
const token = values.token || randomBytes(24).toString('hex');
const storage = path.resolve(values.storage);
mkdirSync(storage, { recursive: true });

Object.assign(process.env, {
  STORAGE_PROVIDER: 'local',
  LOG_LEVEL: 'warn',
  ...process.env,
  HOST: values.host,
  PORT: values.port,
  STORAGE_PATH: storage,
  STORAGE_PATH_USE_TMP_FOLDER: 'false', // otherwise STORAGE_PATH is taken relative to os.tmpdir()
  TURBO_TOKEN: token,
  BODY_LIMIT,
  NODE_ENV: 'production',
});

const api = `http://${values.host === '0.0.0.0' ? '<this-host>' : values.host}:${values.port}`;
process.stdout.write(
  `turborepo-remote-cache on ${values.host}:${values.port}, artifacts in ${storage}, body limit ${BODY_LIMIT} bytes\n` +
    'share it from each clone or CI job with:\n' +
    `  export TURBO_API=${api}\n  export TURBO_TOKEN=${token}\n  export TURBO_TEAM=${values.team}\n`,
);

// turborepo-remote-cache 2.12 stores an upload with `Readable.from(body)`, which passes the whole Buffer to
// one fs.write; Node refuses writes over 2 GiB - 1 and the server crashes, leaving an empty artifact file
// behind. Feeding large buffers through in 64 MiB slices keeps artifacts between 2 and 4 GiB working.
const SLICE = 64 << 20;
const from = Readable.from;
Readable.from = function (source, options) {
  if (!Buffer.isBuffer(source) || source.length <= SLICE) return from.call(this, source, options);
  return from.call(this, (function* () {
    for (let at = 0; at < source.length; at += SLICE) yield source.subarray(at, at + SLICE);
  })(), options);
};

// The package reads its configuration from process.env when first imported.
await import(pathToFileURL(path.join(root, 'node_modules', 'turborepo-remote-cache', 'dist', 'index.js')).href);

function parseArgsOrExit(config) {
  try {
    return parseArgs(config);
  } catch (err) {
    process.stderr.write(`${err.message}\n${USAGE}\n`);
    process.exit(2);
  }
}
