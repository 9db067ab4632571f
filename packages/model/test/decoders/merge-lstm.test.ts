import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initTf } from '@caption/core/tf';
import { createCaptionModel, type CaptionModelConfig } from '../../src/registry.ts';
import { describeDecoderContract, values, type ModelOverrides } from './contract.ts';

const CONFIG: CaptionModelConfig = { decoder: 'merge-lstm', featureShape: [5, 8], vocabSize: 11, embedDim: 6, units: 7, dropout: 0.3 };
const make = (seed: number, overrides: ModelOverrides = {}) => createCaptionModel({ ...CONFIG, ...overrides }, seed);

before(async () => {
  await initTf('wasm');
});

test('merge-lstm: the documented weights with their shapes; forget-gate bias starts at 1', () => {
  const m = createCaptionModel(CONFIG, 1);
  const shapes = Object.fromEntries(Object.entries(m.weights).map(([k, w]) => [k, w.shape]));
  assert.deepEqual(shapes, {
    'image/kernel': [8, 7], 'image/bias': [7], embedding: [11, 6],
    'lstm/kernel': [6, 28], 'lstm/recurrent_kernel': [7, 28], 'lstm/bias': [28],
    'merge/kernel': [7, 7], 'merge/bias': [7], 'output/kernel': [7, 11], 'output/bias': [11],
  });
  assert.deepEqual(m.config, CONFIG);
  const v = values(m);
  // gate order i, f, g, o
  assert.deepEqual(v['lstm/bias'], [...Array(7).fill(0), ...Array(7).fill(1), ...Array(14).fill(0)]);
  assert.ok(v['embedding'].every((x) => Math.abs(x) <= 0.05) && v['embedding'].some((x) => x !== 0));
});

describeDecoderContract('merge-lstm', make, {
  featureShape: CONFIG.featureShape,
  vocabSize: CONFIG.vocabSize,
  seeds: {
    differ: ['image/kernel', 'embedding', 'lstm/kernel', 'lstm/recurrent_kernel', 'merge/kernel', 'output/kernel'],
    distinctWithin: ['merge/kernel', 'output/kernel'],
    prefix: 42,
  },
  forward: { shares: 'its image branch' },
  decode: {
    attention: false,
    checkStart: (state) => {
      assert.deepEqual(Object.keys(state).sort(), ['c', 'h', 'img']);
      assert.deepEqual(state.img.shape, [3, 7]);
    },
  },
  dropout: {},
  overfit: { overrides: { embedDim: 32, units: 64, dropout: 0 }, ratio: 0.3 },
});
