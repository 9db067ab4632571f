import { runIngest } from '../packages/ingest/src/index.ts';
import { runFeatures } from '../packages/features/src/index.ts';
const ingest = { dataset: '/work/shared/datasets/flickr8k', demo: { images: 8, seed: 1 }, format: 'auto', lemmas: false, imageDir: '', splitMap: {}, splitFractions: { train: 0.8, dev: 0.1, test: 0.1 }, strict: false, concurrency: 8 } as const;
await runIngest({ pipeline: 'f8k', seed: 42, params: ingest as never }, '/tmp/f8k/ingest');
await runFeatures({ pipeline: 'f8k', seed: 42, params: { backbone: 'inception_v3', weights: 'pretrained', engine: 'onnx', batchSize: 16, shardSize: 512, dtype: 'float16', concurrency: 4, reuse: false } as never }, '/tmp/f8k/ingest', '/tmp/f8k/features');
