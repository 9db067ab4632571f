/**
 * `pnpm bench:train [--decoders a,b] [--steps N]`: training throughput of each decoder on the reference
 * config (B=64 captions = 13 images x 5, vocab 5000, L=64, D=2048, embed 256, units 512, 16-token captions),
 * random data, TF.js on the default backend. One line per decoder: `<decoder> <value> captions/s`.
 * `--profile` adds, per decoder, where kernel time goes in one training epoch (tf.profile), top kernels first.
 * `--workers N` trains data-parallel on N threads (train.workers): each step's 13 images split across them.
 * `--encoder-head <layer>` trains MobileNetV2's blocks after block_10_project_BN up to that layer with the decoder
 * (train.encoderHead, the nsfwjs weights): features are then [196, 96], the head's input.
 * `--sample` times self-critical sampling (5 captions per image, greedy-length 20) instead of training.
 */
import { parseArgs } from 'node:util';
import { FeatureStore, Rng, toFloat16Bits } from '../packages/core/src/index.ts';
import { initTf, setTransposeFirstMatMul, tf } from '../packages/core/src/tf/runtime.ts';
import { createCaptionModel, type CaptionModelConfig } from '../packages/model/src/index.ts';
import {
  ReplicaPool, createOptimizer, makeBatches, modelConfig, train, type ImageCaptions, type TrainParams,
} from '../packages/train/src/index.ts';
import { trainParamsSchema } from '../packages/train/src/params.ts';
import { sampleParallel } from '../packages/train/src/data-parallel.ts';
import { sampleCaptions } from '../packages/train/src/scst.ts';
import { loadEncoderHead } from '../packages/train/src/encoder-head.ts';
import { BACKBONES, loadKerasBackbone } from '../packages/backbones/src/index.ts';
import { defaultsOf } from './defaults.ts';

const { values } = parseArgs({
  options: {
    decoders: { type: 'string', default: 'attention-gru,transformer,init-gru,merge-lstm' },
    steps: { type: 'string', default: '4' },
    'stock-matmul': { type: 'boolean', default: false }, // measure without the BatchMatMul transpose-first fix
    profile: { type: 'boolean', default: false },        // tf.profile one epoch: kernel time by kernel name
    workers: { type: 'string', default: '1' },
    'encoder-head': { type: 'string' },
    sample: { type: 'boolean', default: false },
  },
});
const backend = await initTf();
const head = values['encoder-head'] ? await mobilenetHead(values['encoder-head']) : undefined;
const [L, D] = head ? [196, 96] : [64, 2048];
const [V, IMAGES, PER_IMAGE, T] = [5000, 13, 5, 16];
if (values['stock-matmul']) setTransposeFirstMatMul(false);
const rng = new Rng(1);

const ids = Array.from({ length: IMAGES }, (_, i) => `img${i}`);
const feats = Float32Array.from({ length: IMAGES * L * D }, () => rng.next() * 2);
const store = FeatureStore.fromShards([{ imageIds: ids, sha256s: ids, shape: [L, D], dtype: 'float16', data: toFloat16Bits(feats), metadata: {} }]);
const images: ImageCaptions[] = ids.map((imageId) => ({
  imageId, captions: Array.from({ length: PER_IMAGE }, () => Int32Array.from([2, ...Array.from({ length: T - 2 }, () => 4 + rng.int(V - 4)), 3])),
}));
const steps = Number(values.steps);
const workers = Number(values.workers);
for (const decoder of values.decoders!.split(',') as TrainParams['decoder'][]) {
  const params: TrainParams = { ...defaultsOf<TrainParams>(trainParamsSchema), decoder, embedDim: 256, units: 512, batchSize: 64, epochs: 1, workers };
  let model;
  try {
    const config = modelConfig(params, [L, D], V, T);
    model = createCaptionModel(head ? { ...config, encoderHead: head.config } : config, 1);
    for (const [name, value] of Object.entries(head?.values ?? {})) model.weights[name].assign(value);
  } catch (err) {
    console.log(`${decoder} n/a (${(err as Error).message})`);
    continue;
  }
  const optimizer = createOptimizer(params);
  const data = { train: images, dev: [], features: store };
  // one pool for all the timed calls: starting replicas is set-up, not training
  const pool = workers > 1 ? await ReplicaPool.start(workers - 1, { config: model.config as CaptionModelConfig, backend }) : undefined;
  // --sample: what a self-critical step samples (5 captions per image, up to 20 tokens) instead of a training epoch
  const sampling = { samples: PER_IMAGE, maxLength: 20 };
  const fit = values.sample
    ? () => (pool ? sampleParallel(model!, data, images, sampling, 1, pool) : Promise.resolve(sampleCaptions(model!, store, ids, sampling, new Rng(1))))
    : () => train(model!, optimizer, data, params, 1, { log: () => undefined }, undefined, pool);
  await fit(); // warm-up: kernels, buffers
  const captions = values.sample ? IMAGES * PER_IMAGE : makeBatches(images, 64).reduce((a, b) => a + b.B, 0);
  const started = process.hrtime.bigint();
  for (let s = 0; s < steps; s++) await fit();
  const secs = Number(process.hrtime.bigint() - started) / 1e9;
  const notes = `${values.sample ? ', self-critical sampling' : ''}${values['stock-matmul'] ? ', stock BatchMatMul' : ''}${workers > 1 ? `, ${workers} workers` : ''}${head ? `, encoder head to ${head.config.to}` : ''}`;
  console.log(`${decoder} ${((captions * steps) / secs).toFixed(2)} captions/s (tfjs-${backend}${notes}, ${(secs / steps).toFixed(2)} s/step of ${captions})`);
  if (values.profile) console.log(await kernelProfile(fit));
  await pool?.close();
  Object.values(model.weights).forEach((w) => w.dispose());
  optimizer.dispose();
}

/** The nsfwjs MobileNetV2 blocks after block_10_project_BN up to `to`, as train.encoderHead loads them. */
async function mobilenetHead(to: string) {
  const atCut = await loadKerasBackbone(BACKBONES.mobilenet_v2, { cutLayer: 'block_10_project_BN' });
  const extra = { backbone: 'mobilenet_v2', cut_layer: 'block_10_project_BN', weights_sha256: atCut.weightsHash, shape: atCut.backbone.shape };
  return loadEncoderHead(to, { extra, params: { weights: 'pretrained' } }, 0);
}

/** Kernel time by kernel name over one call, as `  <kernel> <ms> ms <share>%` lines (top 10). */
async function kernelProfile(run: () => Promise<unknown>): Promise<string> {
  const info = await tf.profile(async () => { await run(); });
  const byName = new Map<string, number>();
  for (const k of info.kernels) {
    const ms = await k.kernelTimeMs;
    if (typeof ms === 'number') byName.set(k.name, (byName.get(k.name) ?? 0) + ms);
  }
  const total = [...byName.values()].reduce((a, b) => a + b, 0);
  return [...byName].sort((a, b) => b[1] - a[1]).slice(0, 10)
    .map(([name, ms]) => `  ${name.padEnd(24)} ${ms.toFixed(0).padStart(7)} ms ${((100 * ms) / total).toFixed(1).padStart(5)}%`)
    .join('\n');
}
