/**
 * `pnpm bench:features [--images N] [--backbones a,b] [--engines onnx,tfjs] [--weights pretrained|random|<path>]`: end-to-end feature
 * extraction throughput (sharp decode + resize overlapped with inference) on N real Flickr8k images
 * ($CAPTION_SHARED/datasets/flickr8k, or --dir). One line per figure: `<backbone> <engine> <value> img/s`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sha256 } from '../packages/core/src/index.ts';
import { initTf } from '../packages/core/src/tf/runtime.ts';
import { BACKBONES, decodeImage, extractFeatures, loadBackbone, onnxEngine, tfjsEngine, type FeatureEngine } from '../packages/backbones/src/index.ts';

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '200' },
    backbones: { type: 'string', default: 'inception_v3,mobilenet_v2' },
    engines: { type: 'string', default: 'onnx,tfjs' },
    batch: { type: 'string', default: '16' },
    weights: { type: 'string', default: 'pretrained' },
    dir: { type: 'string' },
  },
});
const dataset = values.dir ?? (process.env.CAPTION_SHARED && path.join(process.env.CAPTION_SHARED, 'datasets', 'flickr8k'));
if (!dataset) {
  console.error('set CAPTION_SHARED (the shared folder) or pass --dir <flickr8k dir>');
  process.exit(2);
}
const imageDir = path.join(dataset, 'Flicker8k_Dataset');
const files = readdirSync(imageDir).filter((f) => f.endsWith('.jpg')).sort().slice(0, Number(values.images));
// the stage decodes only bytes whose sha256 matches ingest's record: hash them here (outside the timing) as ingest does
const images = files.map((f) => ({ image_id: f, sha256: sha256(readFileSync(path.join(imageDir, f))), file: path.join(imageDir, f) }));
const backend = await initTf();

for (const id of values.backbones!.split(',') as (keyof typeof BACKBONES)[]) {
  const { extractor, weightsHash, backbone } = await loadBackbone(BACKBONES[id], { weights: values.weights, seed: 0 });
  for (const engineName of values.engines!.split(',')) {
    const engine: FeatureEngine = engineName === 'onnx' ? await onnxEngine(extractor, backbone, weightsHash) : tfjsEngine(extractor, backbone, backend);
    // Warm-up batch (session/kernels initialisation) is not timed.
    for await (const _ of extractFeatures(images.slice(0, 2), engine, { batchSize: 2, concurrency: 4, inputSize: backbone.inputSize }, decodeImage)) void _;
    const started = process.hrtime.bigint();
    let n = 0;
    for await (const b of extractFeatures(images, engine, { batchSize: Number(values.batch), concurrency: 4, inputSize: backbone.inputSize }, decodeImage)) n += b.images.length;
    const secs = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(`${id} ${engine.name} ${(n / secs).toFixed(2)} img/s`);
    engine.dispose();
  }
}
