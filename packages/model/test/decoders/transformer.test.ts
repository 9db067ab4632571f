import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineError } from '@caption/core';
import { initTf, tf } from '@caption/core/tf';
import { createCaptionModel, DropoutSeeds, type CaptionModelConfig } from '../../src/registry.ts';
import { describeDecoderContract, int2d, maxDiff, randomFeatures, values, type ModelOverrides } from './contract.ts';

const CONFIG: CaptionModelConfig = {
  decoder: 'transformer', featureShape: [5, 8], vocabSize: 11, embedDim: 8, units: 12, heads: 2, keyDim: 4, maxLength: 6, dropout: 0.3,
};
const [L] = CONFIG.featureShape;
const make = (seed: number, overrides: ModelOverrides = {}) => createCaptionModel({ ...CONFIG, ...overrides }, seed);
const features = (K: number, seed = 3) => randomFeatures(CONFIG.featureShape, K, seed);

before(async () => {
  await initTf('wasm');
});

test('transformer: the documented weights with their shapes; layer-norm scales start at 1', () => {
  const m = createCaptionModel(CONFIG, 1);
  const shapes = Object.fromEntries(Object.entries(m.weights).map(([k, w]) => [k, w.shape]));
  const ln = (name: string, n: number) => ({ [`${name}/gamma`]: [n], [`${name}/beta`]: [n] });
  const dense = (name: string, a: number, b: number) => ({ [`${name}/kernel`]: [a, b], [`${name}/bias`]: [b] });
  const mha = (name: string) => ({ ...dense(`${name}/query`, 8, 8), ...dense(`${name}/key`, 8, 8), ...dense(`${name}/value`, 8, 8), ...dense(`${name}/output`, 8, 8) });
  assert.deepEqual(shapes, {
    ...ln('encoder/layernorm_1', 8), ...dense('encoder/dense', 8, 8), ...mha('encoder/attention'), ...ln('encoder/layernorm_2', 8),
    'decoder/token_embedding': [11, 8], 'decoder/position_embedding': [6, 8],
    ...mha('decoder/attention_1'), ...ln('decoder/layernorm_1', 8), ...mha('decoder/attention_2'), ...ln('decoder/layernorm_2', 8),
    ...dense('decoder/ffn_1', 8, 12), ...dense('decoder/ffn_2', 12, 8), ...ln('decoder/layernorm_3', 8), ...dense('decoder/output', 8, 11),
  });
  assert.deepEqual(m.config, CONFIG);
  const v = values(m);
  assert.ok(v['decoder/layernorm_3/gamma'].every((x) => x === 1));
  assert.ok(v['encoder/layernorm_1/beta'].every((x) => x === 0));
  assert.ok(v['decoder/attention_1/query/kernel'].some((x) => x !== 0));
});

describeDecoderContract('transformer', make, {
  featureShape: CONFIG.featureShape,
  vocabSize: CONFIG.vocabSize,
  seeds: {
    differ: ['encoder/dense/kernel', 'decoder/token_embedding', 'decoder/attention_2/key/kernel', 'decoder/output/kernel'],
    distinctWithin: ['decoder/attention_1/query/kernel', 'decoder/attention_2/query/kernel'],
  },
  forward: { shares: 'its encoding' },
  decode: {
    attention: true,
    checkStart: (state) => {
      // batch-major state: cross-attention keys/values [B, H, L, K] and an empty self-attention cache [B, H, 0, K]
      assert.deepEqual(state.keys.shape, [3, 2, L, 4]);
      assert.deepEqual(state.selfKeys.shape, [3, 2, 0, 4]);
      assert.deepEqual(state.selfValues.shape, [3, 2, 0, 4]);
    },
    checkStep: (previous, r, steps) => {
      assert.equal(r.state.keys, previous.keys, 'the encoder output is carried over, not recomputed');
      // the cache grows by one position a step and keeps the earlier positions' keys/values as they were
      assert.deepEqual(r.state.selfKeys.shape, [3, 2, steps, 4]);
      assert.deepEqual(r.state.selfValues.shape, [3, 2, steps, 4]);
      const kept = tf.tidy(() => tf.slice(r.state.selfValues, [0, 0, 0, 0], [3, 2, steps - 1, 4]).arraySync());
      assert.deepEqual(kept, previous.selfValues.arraySync());
    },
  },
  dropout: {},
  // A key bias adds the same score to every key of a query, which softmax cancels: its gradient is exactly 0
  // in theory (only rounding noise, ~1e-9, in practice), so it is checked for existence, not for size.
  overfit: {
    overrides: { dropout: 0 }, ratio: 0.3,
    zeroGradient: ['encoder/attention/key/bias', 'decoder/attention_1/key/bias', 'decoder/attention_2/key/bias'],
  },
});

test('transformer: the position embedding tells repeated tokens apart', () => {
  const m = createCaptionModel(CONFIG, 7);
  tf.tidy(() => {
    const same = m.forward(features(1), tf.tensor1d([0], 'int32'), int2d([[4, 4, 4]])).arraySync() as number[][][];
    assert.ok(maxDiff(same[0][1], same[0][2]) > 1e-6);
  });
});

test('transformer: inputs longer than maxLength are a config error, in teacher forcing and in decoding', () => {
  const m = createCaptionModel(CONFIG, 9);
  const tooLong = (e: unknown) => e instanceof PipelineError && e.code === 'config' && /7 tokens exceeds maxLength 6/.test(e.message);
  tf.tidy(() => {
    assert.throws(() => m.forward(features(1), tf.tensor1d([0], 'int32'), int2d([[2, 4, 5, 6, 7, 8, 9]])), tooLong);
    let state = m.start(features(1));
    for (let t = 0; t < 6; t++) state = m.next(state, tf.tensor1d([4], 'int32')).state; // positions 0..5 fit
    assert.throws(() => m.next(state, tf.tensor1d([4], 'int32')), tooLong);
  });
});

for (const option of ['residualDropout', 'encoderDropout'] as const) test(`transformer: ${option} changes training outputs only, reproducibly per seed`, () => {
  const plain = createCaptionModel({ ...CONFIG, dropout: 0 }, 5);
  const residual = createCaptionModel({ ...CONFIG, dropout: 0, [option]: 0.3 }, 5);
  tf.tidy(() => {
    const args = [features(2), tf.tensor1d([0, 1], 'int32'), int2d([[2, 4, 5], [2, 6, 7]])] as const;
    const infer = (m: typeof plain) => Array.from(m.forward(...args).dataSync());
    const train = (m: typeof plain, seed: number) => Array.from(m.forward(...args, { dropout: new DropoutSeeds(seed) }).dataSync());
    // inference ignores the rate; training without it is inference (dropout 0 everywhere)
    assert.deepEqual(infer(residual), infer(plain));
    assert.deepEqual(train(plain, 1), infer(plain));
    assert.ok(maxDiff(train(residual, 1), infer(residual)) > 1e-3, 'residual dropout must change training outputs');
    assert.deepEqual(train(residual, 1), train(residual, 1));
  });
});
