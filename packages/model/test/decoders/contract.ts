/**
 * The decoder contract every caption model honours, as one set of `node:test` cases registered by
 * `describeDecoderContract`, plus the small helpers the per-architecture test files share.
 *
 * The contract: same seed -> same weights (another seed -> other weights); teacher-forced forward gives
 * finite, causal logits [B, T, V] and captions of one image share its encoding; start/next decoding one
 * step at a time reproduces forward; dropout changes training outputs only, reproducibly per seed; every
 * weight gets a finite non-zero gradient; a short Adam run overfits 2 images x 2 captions.
 *
 * The calling file initialises TF.js (`before(() => initTf('wasm'))`); it is idempotent, so files that
 * need it for their own tests keep doing it themselves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '@caption/core/tf';
import { DropoutSeeds, type CaptionModel, type DecodeState } from '../../src/registry.ts';
import { maskedCrossEntropy } from '../../src/loss.ts';

/** Config fields a contract case may override on the model under test (all decoders have them). */
export interface ModelOverrides {
  embedDim?: number;
  units?: number;
  dropout?: number;
}

export type MakeModel = (seed: number, overrides?: ModelOverrides) => CaptionModel;
export type StepResult = ReturnType<CaptionModel['next']>;

export interface DecoderContractOptions {
  /** [L, D] of the features the model was configured for. */
  featureShape: [number, number];
  /** V of the model's vocabulary. */
  vocabSize: number;

  /** Same seed -> identical weights; different seed -> different weights. */
  seeds: {
    /** Weights that must differ between seeds 42 and 43. */
    differ: string[];
    /** Two weights of one model that must differ (each weight has its own seed); optionally only their first `prefix` values. */
    distinctWithin: [string, string];
    prefix?: number;
  };

  /** Teacher forcing; `shares` names what captions of one image share ("its encoding", "its initial state"). */
  forward: { shares: string };

  /** start/next decoding one step at a time, compared with forward over the same tokens (B = 3). */
  decode: {
    /** T columns of B = 3 tokens; defaults to 5 columns. */
    tokens?: number[][];
    /** Whether `next` returns attention [B, L] (rows in (0, 1), summing to 1) or none. */
    attention: boolean;
    /** Architecture-specific checks of `start`'s state. */
    checkStart?: (state: DecodeState) => void;
    /** Architecture-specific checks after each step (`steps` = steps taken so far, including this one). */
    checkStep?: (previous: DecodeState, result: StepResult, steps: number) => void;
  };

  /** Dropout case: config overrides for the model it builds (e.g. a rate when the base config has none). */
  dropout?: { overrides?: ModelOverrides };

  /** Gradient + overfit case. */
  overfit: {
    /** Config overrides for the model it trains (usually larger, dropout 0). */
    overrides: ModelOverrides;
    /** The final loss must be below `ratio` x the first step's loss. */
    ratio: number;
    steps?: number;        // default 30
    learningRate?: number; // default 0.01
    /**
     * Weights whose gradient is analytically zero (e.g. a bias added to attention scores right before a
     * softmax, which is shift-invariant): checked present and finite, not non-zero, since any non-zero
     * value there is float rounding noise.
     */
    zeroGradient?: string[];
  };
}

export const values = (m: CaptionModel): Record<string, number[]> =>
  Object.fromEntries(Object.entries(m.weights).map(([k, w]) => [k, Array.from(w.dataSync())]));
export const int2d = (rows: number[][]) => tf.tensor2d(rows, [rows.length, rows[0].length], 'int32');
export const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));

/** K random feature maps [K, L, D] for a model configured with featureShape [L, D]. */
export const randomFeatures = ([L, D]: [number, number], K: number, seed = 3) =>
  tf.randomUniform([K, L, D], 0, 1, 'float32', seed) as tf.Tensor3D;

// 2 images x 2 captions; inputs = caption[:-1], targets = caption[1:]
const CAPTIONS = [[2, 4, 5, 6, 3], [2, 4, 7, 8, 3], [2, 9, 10, 3, 0], [2, 9, 6, 5, 3]];
export const batch = () => ({
  imageIndex: tf.tensor1d([0, 0, 1, 1], 'int32'),
  inputs: int2d(CAPTIONS.map((c) => c.slice(0, -1))),
  targets: int2d(CAPTIONS.map((c) => c.slice(1))),
});

const DEFAULT_TOKENS = [[2, 2, 2], [4, 7, 9], [5, 1, 10], [6, 6, 3], [3, 8, 4]]; // T = 5 columns of B = 3

/** Registers the decoder-contract tests for one architecture; test names start with `${name}: `. */
export function describeDecoderContract(name: string, makeModel: MakeModel, opts: DecoderContractOptions): void {
  const [L] = opts.featureShape;
  const V = opts.vocabSize;
  const features = (K: number, seed = 3) => randomFeatures(opts.featureShape, K, seed);

  test(`${name}: same seed -> identical weights; different seed -> different weights`, () => {
    const a = values(makeModel(42));
    const b = values(makeModel(42));
    const c = values(makeModel(43));
    assert.deepEqual(a, b);
    for (const k of opts.seeds.differ) assert.notDeepEqual(a[k], c[k], k);
    // within one model, each weight has its own seed
    const [x, y] = opts.seeds.distinctWithin;
    const n = opts.seeds.prefix;
    assert.notDeepEqual(n === undefined ? a[x] : a[x].slice(0, n), n === undefined ? a[y] : a[y].slice(0, n));
  });

  test(`${name}: forward gives logits [B, T, V]; causal; captions of one image share ${opts.forward.shares}`, () => {
    const m = makeModel(7);
    tf.tidy(() => {
      const inputs = int2d([[2, 4, 5, 0], [2, 4, 5, 6], [2, 4, 5, 0]]);
      const y = m.forward(features(2), tf.tensor1d([0, 0, 1], 'int32'), inputs);
      assert.deepEqual(y.shape, [3, 4, V]);
      const out = y.arraySync() as number[][][];
      assert.ok(out.flat(2).every(Number.isFinite));
      // rows 0 and 1 (same image, same prefix) differ only at the last input: earlier positions must not see it
      for (let t = 0; t < 3; t++) assert.ok(maxDiff(out[0][t], out[1][t]) < 1e-5, `t${t}`);
      assert.ok(maxDiff(out[0][3], out[1][3]) > 1e-6);
      assert.ok(maxDiff(out[0][0], out[2][0]) > 1e-6, 'different images must give different logits');
    });
  });

  const attentionTitle = opts.decode.attention ? 'attention [B, L] rows sum to 1' : 'no attention';
  test(`${name}: start/next reproduce forward at every position; ${attentionTitle}`, () => {
    const m = makeModel(9);
    tf.tidy(() => {
      const feats = features(3, 5);
      const tokens = opts.decode.tokens ?? DEFAULT_TOKENS;
      let state = m.start(feats);
      opts.decode.checkStart?.(state);
      const stepped: number[][][] = [];
      for (const col of tokens) {
        const r = m.next(state, tf.tensor1d(col, 'int32'));
        assert.deepEqual(r.logits.shape, [3, V]);
        if (opts.decode.attention) {
          assert.ok(r.attention, `${name} returns attention weights`);
          assert.deepEqual(r.attention.shape, [3, L]);
          for (const row of r.attention.arraySync() as number[][]) {
            assert.ok(row.every((a) => a > 0 && a < 1), JSON.stringify(row));
            assert.ok(Math.abs(row.reduce((s, a) => s + a, 0) - 1) < 1e-5);
          }
        } else {
          assert.equal(r.attention, undefined);
        }
        stepped.push(r.logits.arraySync() as number[][]);
        opts.decode.checkStep?.(state, r, stepped.length);
        state = r.state;
      }
      // teacher forcing over the same tokens gives the same logits as stepping
      const inputs = int2d([0, 1, 2].map((b) => tokens.map((col) => col[b])));
      const full = m.forward(feats, tf.tensor1d([0, 1, 2], 'int32'), inputs).arraySync() as number[][][];
      for (let b = 0; b < 3; b++) for (let t = 0; t < tokens.length; t++) assert.ok(maxDiff(full[b][t], stepped[t][b]) < 1e-4, `b${b} t${t}`);
    });
  });

  if (opts.dropout) {
    const overrides = opts.dropout.overrides;
    test(`${name}: dropout changes training outputs only, reproducibly per seed`, () => {
      const m = makeModel(11, overrides);
      tf.tidy(() => {
        const { imageIndex, inputs } = batch();
        const feats = features(2);
        const run = (dropout?: DropoutSeeds) => Array.from(m.forward(feats, imageIndex, inputs, { dropout }).dataSync());
        const inference = run();
        assert.deepEqual(run(), inference, 'inference is deterministic');
        const trainA = run(new DropoutSeeds(5));
        assert.ok(maxDiff(trainA, inference) > 1e-4, 'dropout must change training outputs');
        assert.deepEqual(run(new DropoutSeeds(5)), trainA, 'same DropoutSeeds seed -> same masks');
        assert.ok(maxDiff(run(new DropoutSeeds(6)), trainA) > 1e-4, 'another seed -> other masks');
      });
    });
  }

  const { overrides, ratio, steps = 30, learningRate = 0.01, zeroGradient = [] } = opts.overfit;
  test(`${name}: every weight gets a gradient; ${steps} Adam steps overfit 2 images x 2 captions`, () => {
    const m = makeModel(13, overrides);
    const feats = features(2);
    const { imageIndex, inputs, targets } = batch();
    const loss = () => maskedCrossEntropy(m.forward(feats, imageIndex, inputs), targets);
    const weights = Object.values(m.weights);
    for (const k of zeroGradient) assert.ok(m.weights[k], `zeroGradient names unknown weight ${k}`);

    const { grads } = tf.variableGrads(loss, weights);
    for (const [key, w] of Object.entries(m.weights)) {
      const g = grads[w.name];
      assert.ok(g, `no gradient for ${w.name}`);
      const gv = Array.from(g.dataSync());
      assert.ok(gv.every(Number.isFinite), `non-finite gradient for ${w.name}`);
      if (!zeroGradient.includes(key)) assert.ok(gv.some((x) => x !== 0), `zero gradient for ${w.name}`);
    }
    tf.dispose(grads);

    const optimizer: tf.Optimizer = tf.train.adam(learningRate);
    const losses: number[] = [];
    for (let step = 0; step < steps; step++) {
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(loss, weights);
        losses.push(value.dataSync()[0]);
        optimizer.applyGradients(grads);
      });
    }
    const last = tf.tidy(() => loss().dataSync()[0]);
    assert.ok(last < ratio * losses[0], `loss ${losses[0].toFixed(3)} -> ${last.toFixed(3)}`);
    optimizer.dispose();
  });
}
