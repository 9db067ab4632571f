/**
 * `pnpm bench:scale [--images N] [--backbone id] [--shard n] [--workers 1,2] [--pin]`: features as queued shard
 * jobs on a real redis-server (loopback), with 1 then 2 `caption worker` processes of one ONNX Runtime thread each
 * (`--pin`: worker i confined to core i with taskset, as if each had a machine of one core; unpinned, a lone
 * worker also decodes images on the idle core), on
 * N real Flickr8k images ($CAPTION_SHARED/datasets/flickr8k); then the store's write/read throughput, and a
 * projection for COCO (123,287 images) on M machines from the measured per-shard time and store throughput.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DirStore, sha256 } from '../packages/core/src/index.ts';
import { BACKBONES } from '../packages/backbones/src/index.ts';
import { runIngest } from '../packages/ingest/src/index.ts';
import { runFeatures } from '../packages/features/src/stage.ts';
import type { FeaturesParams } from '../packages/features/src/params.ts';
import { startRedis } from '../test/helpers/redis.ts';

const { values } = parseArgs({ options: {
  images: { type: 'string', default: '256' }, backbone: { type: 'string', default: 'inception_v3' },
  shard: { type: 'string', default: '16' }, workers: { type: 'string', default: '1,2' }, pin: { type: 'boolean', default: false },
} });
const SHARED = process.env.CAPTION_SHARED;
if (!SHARED) (console.error('set CAPTION_SHARED (the shared folder holding datasets/flickr8k)'), process.exit(2));
const COCO_IMAGES = 123_287;
const root = path.resolve(import.meta.dirname, '..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-scale-'));
const params: FeaturesParams = {
  backbone: values.backbone as FeaturesParams['backbone'], weights: 'pretrained', engine: 'onnx', batchSize: 16,
  shardSize: Number(values.shard), dtype: 'float16', concurrency: 4, reuse: false,
};

/** A Flickr8k-layout data set of the first N official train images. */
function subset(out: string, n: number) {
  const src = path.join(SHARED!, 'datasets', 'flickr8k');
  const text = (f: string) => readFileSync(path.join(src, 'Flickr8k_text', f), 'utf8');
  const ids = text('Flickr_8k.trainImages.txt').split('\n').filter(Boolean).slice(0, n);
  const keep = new Set(ids);
  mkdirSync(path.join(out, 'Flickr8k_text'), { recursive: true });
  mkdirSync(path.join(out, 'Flicker8k_Dataset'), { recursive: true });
  writeFileSync(path.join(out, 'Flickr8k_text', 'Flickr_8k.trainImages.txt'), `${ids.join('\n')}\n`);
  for (const split of ['dev', 'test']) writeFileSync(path.join(out, 'Flickr8k_text', `Flickr_8k.${split}Images.txt`), '');
  writeFileSync(path.join(out, 'Flickr8k_text', 'Flickr8k.token.txt'), `${text('Flickr8k.token.txt').split('\n').filter((l) => keep.has(l.split('#')[0])).join('\n')}\n`);
  for (const id of ids) cpSync(path.join(src, 'Flicker8k_Dataset', id), path.join(out, 'Flicker8k_Dataset', id));
}

function startWorkers(n: number, url: string): Promise<ChildProcess[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => new Promise<ChildProcess>((resolve, reject) => {
    const args = [process.execPath, '--import', 'tsx', 'packages/cli/src/main.ts', 'worker', '--queue', url, '--threads', '1'];
    const [cmd, ...rest] = values.pin ? ['taskset', '-c', String(i % os.cpus().length), ...args] : args;
    const child = spawn(cmd, rest, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stderr!.on('data', (d) => ((out += d), /waiting for jobs/.test(out) && resolve(child)));
    child.once('exit', (code) => reject(new Error(`worker exited ${code}:\n${out}`)));
  })));
}

/** images/s of `n` processes computing the run's rows at once, each alone on the machine otherwise. */
function computeAlone(n: number): Promise<number[]> {
  return Promise.all(Array.from({ length: n }, () => new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/compute-alone.ts', path.join(tmp, 'ingest'), JSON.stringify(params)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    child.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{"rate"'));
      if (code === 0 && line) resolve((JSON.parse(line) as { rate: number }).rate);
      else reject(new Error(`compute-alone exited ${code}:\n${out.slice(-2000)}`));
    });
  })));
}

async function features(out: string, queue?: string, ingestDir = 'ingest', shardSize = params.shardSize): Promise<number> {
  process.env.CAPTION_STORE = path.join(tmp, `store-${out}`);
  if (queue) process.env.CAPTION_QUEUE = queue;
  else delete process.env.CAPTION_QUEUE;
  const started = performance.now();
  await runFeatures({ pipeline: 'bench', seed: 1, params: { ...params, shardSize } }, path.join(tmp, ingestDir), path.join(tmp, out));
  return (performance.now() - started) / 1000;
}

const n = Number(values.images);
const ingest = { demo: { images: 0, seed: 0 }, format: 'flickr8k', lemmas: false, imageDir: '', splitMap: {}, splitFractions: { train: 0.8, dev: 0.1, test: 0.1 }, strict: false, concurrency: 4 } as const;
for (const [name, count] of [['ingest', n], ['ingest-warm', 16]] as const) {
  subset(path.join(tmp, `data-${name}`), count);
  await runIngest({ pipeline: 'bench', seed: 1, params: { ...ingest, dataset: path.join(tmp, `data-${name}`) } }, path.join(tmp, name));
}
const redis = await startRedis();
const rates: Record<number, number> = {};
try {
  for (const count of values.workers!.split(',').map(Number)) {
    const workers = await startWorkers(count, redis.url);
    await features(`warm-${count}`, redis.url, 'ingest-warm', 2); // 8 small jobs: each worker loads the backbone on its first, not timed
    const secs = await features(`run-${count}`, redis.url);
    rates[count] = n / secs;
    console.log(`${values.backbone} ${count} worker(s) x 1 thread${values.pin ? ' (pinned, a core each)' : ''}: ${n} images in ${secs.toFixed(1)} s = ${rates[count].toFixed(2)} img/s`);
    await Promise.all(workers.map((w) => new Promise((r) => w.once('exit', r).kill('SIGTERM'))));
  }
} finally {
  await redis.stop();
}
const counts = Object.keys(rates).map(Number);
if (counts.includes(1) && counts.includes(2)) {
  console.log(`speed-up 2 workers / 1 worker: ${(rates[2] / rates[1]).toFixed(2)}x`);
  const [alone] = await computeAlone(1);
  const pair = await computeAlone(2);
  const both = pair[0] + pair[1];
  console.log(`ceiling without the queue (processes computing rows directly): 1 alone ${alone.toFixed(2)} img/s, ` +
    `2 at once ${pair.map((r) => r.toFixed(2)).join(' + ')} = ${both.toFixed(2)} img/s: ${(both / alone).toFixed(2)}x`);
}

// store throughput over the shards just written: put into a fresh store, fetch back out
const shardDir = path.join(tmp, `run-${counts.at(-1)}`, 'shards');
const shards = readdirSync(shardDir).filter((f) => f.endsWith('.arrow')).map((f) => path.join(shardDir, f));
const bytes = shards.reduce((s, f) => s + statSync(f).size, 0);
const store = new DirStore(path.join(tmp, 'throughput'));
const entries = shards.map((f) => ({ file: f, entry: { sha256: sha256(readFileSync(f)), bytes: statSync(f).size } }));
let t = performance.now();
for (const e of entries) await store.putFile(e.file, e.entry);
const putMBs = bytes / 2 ** 20 / ((performance.now() - t) / 1000);
t = performance.now();
for (const [i, e] of entries.entries()) await store.fetchTo(e.entry, path.join(tmp, 'fetched', `${i}.arrow`));
const getMBs = bytes / 2 ** 20 / ((performance.now() - t) / 1000);
console.log(`store (directory, this disk): put ${putMBs.toFixed(0)} MiB/s, fetch ${getMBs.toFixed(0)} MiB/s (verified), ${(bytes / n / 1024).toFixed(1)} KiB per image`);

// projection: machines like this one, 2 workers each; the coordinator fetches every shard once
const perMachine = rates[2] ?? rates[counts.at(-1)!];
const cocoBytes = (bytes / n) * COCO_IMAGES;
const [L, D] = BACKBONES[params.backbone].shape;
console.log(`projection, COCO ${COCO_IMAGES.toLocaleString('en')} images, [${L},${D}] float16 = ${(cocoBytes / 2 ** 30).toFixed(1)} GiB of shards:`);
for (const machines of [1, 4, 16, 64]) {
  const compute = COCO_IMAGES / (perMachine * machines);
  const transfer = cocoBytes / 2 ** 20 / Math.min(putMBs, getMBs);
  console.log(`  ${String(machines).padStart(2)} machine(s): extraction ${(compute / 60).toFixed(0)} min + fetching the shards ${(transfer / 60).toFixed(1)} min at the measured store speed`);
}
rmSync(tmp, { recursive: true, force: true });
