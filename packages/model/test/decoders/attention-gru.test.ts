import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineError } from '@caption/core';
import { initTf } from '@caption/core/tf';
import { createCaptionModel, type CaptionModelConfig } from '../../src/registry.ts';
import { describeDecoderContract, values, type ModelOverrides } from './contract.ts';

const CONFIG: CaptionModelConfig = { decoder: 'attention-gru', featureShape: [5, 8], vocabSize: 11, embedDim: 6, units: 7 };
const make = (seed: number, overrides: ModelOverrides = {}) => createCaptionModel({ ...CONFIG, ...overrides }, seed);

before(async () => {
  await initTf('wasm');
});

test('attention-gru: the documented weights with their shapes', () => {
  const m = createCaptionModel(CONFIG, 1);
  const shapes = Object.fromEntries(Object.entries(m.weights).map(([k, w]) => [k, w.shape]));
  assert.deepEqual(shapes, {
    'encoder/kernel': [8, 6], 'encoder/bias': [6],
    embedding: [11, 6],
    'attention/W1/kernel': [6, 7], 'attention/W1/bias': [7],
    'attention/W2/kernel': [7, 7], 'attention/W2/bias': [7],
    'attention/V/kernel': [7, 1], 'attention/V/bias': [1],
    'gru/kernel': [12, 21], 'gru/recurrent_kernel': [7, 21], 'gru/bias': [21], 'gru/recurrent_bias': [21],
    'fc1/kernel': [7, 7], 'fc1/bias': [7],
    'fc2/kernel': [7, 11], 'fc2/bias': [11],
  });
  assert.deepEqual(m.config, CONFIG);
  for (const w of Object.values(m.weights)) assert.ok(w.trainable);
  // initialisers: biases zero, kernels not
  assert.ok(values(m)['gru/bias'].every((x) => x === 0));
  assert.ok(values(m)['gru/kernel'].some((x) => x !== 0));
  assert.ok(values(m)['embedding'].every((x) => Math.abs(x) <= 0.05));
});

describeDecoderContract('attention-gru', make, {
  featureShape: CONFIG.featureShape,
  vocabSize: CONFIG.vocabSize,
  seeds: {
    differ: ['encoder/kernel', 'embedding', 'gru/kernel', 'fc2/kernel'],
    distinctWithin: ['fc1/kernel', 'attention/W2/kernel'],
  },
  forward: { shares: 'its encoding' },
  decode: {
    tokens: [[2, 2, 2], [4, 7, 9], [5, 1, 10]],
    attention: true,
    checkStart: (state) => assert.deepEqual(state.h.shape, [3, 7]),
  },
  dropout: { overrides: { dropout: 0.3 } },
  // V/bias shifts every attention score equally, so the softmax cancels it: its gradient is exactly 0 up to rounding
  overfit: { overrides: { embedDim: 16, units: 32, dropout: 0 }, ratio: 0.3, zeroGradient: ['attention/V/bias'] },
});

test('createCaptionModel: unknown decoder is a config error', () => {
  assert.throws(
    () => createCaptionModel({ ...CONFIG, decoder: 'no-such-decoder' } as unknown as CaptionModelConfig, 1),
    (e: unknown) => e instanceof PipelineError && e.code === 'config' && /unknown decoder 'no-such-decoder'/.test(e.message),
  );
});
