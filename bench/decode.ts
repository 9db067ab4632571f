/**
 * `pnpm bench:decode [--decoders a,b] [--images N] [--beam K]`: decoding throughput of each decoder on the
 * reference config (vocab 5000, L=64, D=2048, embed 256, units 512), random weights and features, captions of
 * `--max-length` tokens (random weights rarely emit <end>, so every caption runs the full length), in batches of 32
 * images. One line per decoder: `<decoder> <value> captions/s`.
 */
import { parseArgs } from 'node:util';
import { Rng } from '../packages/core/src/index.ts';
import { initTf } from '../packages/core/src/tf/runtime.ts';
import { beamDecode, createCaptionModel, greedyDecode, type FeatureSource } from '../packages/model/src/index.ts';
import { modelConfig, type TrainParams } from '../packages/train/src/index.ts';
import { trainParamsSchema } from '../packages/train/src/params.ts';
import { defaultsOf } from './defaults.ts';

const { values } = parseArgs({
  options: {
    decoders: { type: 'string', default: 'attention-gru,transformer,init-gru,merge-lstm' },
    images: { type: 'string', default: '64' },
    beam: { type: 'string', default: '1' },
    'max-length': { type: 'string', default: '20' },
  },
});
const [L, D, V, BATCH] = [64, 2048, 5000, 32];
const images = Number(values.images);
const beamSize = Number(values.beam);
const maxLength = Number(values['max-length']);
const backend = await initTf();
const rng = new Rng(1);
const perImage = Float32Array.from({ length: images * L * D }, () => rng.next() * 2);
const ids = Array.from({ length: images }, (_, i) => `img${i}`);
const rowOf = new Map(ids.map((id, i) => [id, i]));
const features: FeatureSource = {
  shape: [L, D],
  batch: (batch) => {
    const out = new Float32Array(batch.length * L * D);
    batch.forEach((id, i) => out.set(perImage.subarray(rowOf.get(id)! * L * D, (rowOf.get(id)! + 1) * L * D), i * L * D));
    return out;
  },
};

for (const decoder of values.decoders!.split(',') as TrainParams['decoder'][]) {
  const params: TrainParams = { ...defaultsOf<TrainParams>(trainParamsSchema), decoder, embedDim: 256, units: 512 };
  const model = createCaptionModel(modelConfig(params, [L, D], V, maxLength + 1), 1);
  const run = (imageIds: string[]) => beamSize > 1
    ? beamDecode(model, features, imageIds, { beamSize, maxLength, lengthPenalty: 0, batchSize: Math.max(1, Math.floor(BATCH / beamSize)) })
    : greedyDecode(model, features, imageIds, maxLength, BATCH);
  run(ids.slice(0, Math.min(images, BATCH))); // warm-up: kernels, buffers
  const started = process.hrtime.bigint();
  const decoded = run(ids);
  const secs = Number(process.hrtime.bigint() - started) / 1e9;
  const tokens = decoded.reduce((a, d) => a + d.tokens.length, 0);
  console.log(`${decoder} ${(images / secs).toFixed(2)} captions/s (tfjs-${backend}, ${beamSize > 1 ? `beam k=${beamSize}` : 'greedy'}, ` +
    `${images} images, ${(tokens / images).toFixed(1)} tokens/caption, ${secs.toFixed(2)} s)`);
  Object.values(model.weights).forEach((w) => w.dispose());
}
