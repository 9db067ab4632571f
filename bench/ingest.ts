/**
 * `pnpm bench:ingest [dir]`: wall time of a full ingest (every image hashed, header-read and decoded).
 * Default data set: $CAPTION_SHARED/datasets/flickr8k. Prints one line per figure.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runIngest, ingestParamsSchema, type IngestParams } from '../packages/ingest/src/index.ts';
import { defaultsOf } from './defaults.ts';

const dir = process.argv[2] ?? (process.env.CAPTION_SHARED && path.join(process.env.CAPTION_SHARED, 'datasets', 'flickr8k'));
if (!dir) {
  console.error('usage: pnpm bench:ingest <dataset dir>   (or set CAPTION_SHARED to the shared folder)');
  process.exit(2);
}
const out = mkdtempSync(path.join(os.tmpdir(), 'bench-ingest-'));
try {
  for (const concurrency of [8]) {
    const params: IngestParams = { ...defaultsOf<IngestParams>(ingestParamsSchema), dataset: path.resolve(dir), concurrency };
    const started = process.hrtime.bigint();
    const m = await runIngest({ pipeline: 'bench', seed: 42, params }, path.join(out, 'ingest'));
    const secs = Number(process.hrtime.bigint() - started) / 1e9;
    const images = m.rows.images;
    console.log(`ingest ${path.basename(dir)} ${secs.toFixed(2)} s (${(images / secs).toFixed(0)} img/s, ${images} images, ${m.rows.captions_kept} captions, concurrency ${concurrency})`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
