import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initTf } from '@caption/core/tf';
import { createCaptionModel, type CaptionModelConfig } from '../../src/registry.ts';
import { describeDecoderContract, values, type ModelOverrides } from './contract.ts';

const CONFIG: CaptionModelConfig = { decoder: 'init-gru', featureShape: [5, 8], vocabSize: 11, embedDim: 6, units: 7, layers: 3, dropout: 0.3 };
const make = (seed: number, overrides: ModelOverrides = {}) => createCaptionModel({ ...CONFIG, ...overrides }, seed);

before(async () => {
  await initTf('wasm');
});

test('init-gru: the documented weights with their shapes', () => {
  const m = createCaptionModel(CONFIG, 1);
  const shapes = Object.fromEntries(Object.entries(m.weights).map(([k, w]) => [k, w.shape]));
  const gru = (l: number, n: number) => ({
    [`gru_${l}/kernel`]: [n, 21], [`gru_${l}/recurrent_kernel`]: [7, 21], [`gru_${l}/bias`]: [21], [`gru_${l}/recurrent_bias`]: [21],
  });
  assert.deepEqual(shapes, {
    'transfer_map/kernel': [8, 7], 'transfer_map/bias': [7], embedding: [11, 6],
    ...gru(1, 6), ...gru(2, 7), ...gru(3, 7),
    'output/kernel': [7, 11], 'output/bias': [11],
  });
  assert.deepEqual(m.config, CONFIG);
  assert.equal(Object.keys(createCaptionModel({ ...CONFIG, layers: 1 }, 1).weights).filter((k) => k.startsWith('gru_')).length, 4);
  const v = values(m);
  assert.ok(v['gru_2/bias'].every((x) => x === 0));
  assert.ok(v['embedding'].every((x) => Math.abs(x) <= 0.05) && v['embedding'].some((x) => x !== 0));
});

describeDecoderContract('init-gru', make, {
  featureShape: CONFIG.featureShape,
  vocabSize: CONFIG.vocabSize,
  seeds: {
    differ: ['transfer_map/kernel', 'embedding', 'gru_1/kernel', 'gru_3/recurrent_kernel', 'output/kernel'],
    distinctWithin: ['gru_2/kernel', 'gru_3/kernel'],
  },
  forward: { shares: 'its initial state' },
  decode: {
    attention: false,
    checkStart: (state) => {
      assert.deepEqual(Object.keys(state).sort(), ['h1', 'h2', 'h3']);
      assert.deepEqual(state.h1.shape, [3, 7]);
      assert.deepEqual(state.h1.arraySync(), state.h3.arraySync(), 'every layer starts from the image state');
      assert.notEqual(state.h1, state.h3, 'one tensor per layer, so each can be disposed on its own');
    },
  },
  dropout: {},
  overfit: { overrides: { embedDim: 16, units: 32, dropout: 0 }, ratio: 0.3 },
});
