import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FeatureStore } from '@caption/core';
import { initTf, tf } from '@caption/core/tf';
import { createCaptionModel, type CaptionModel, type DecodeState } from '../src/index.ts';
import { greedyDecode } from '../src/index.ts';
import { tempFeatureStore } from './features.ts';
import { END, START } from '@caption/core';

const L = 3;
const D = 4;
const V = 10;
const IDS = ['img0.jpg', 'img1.jpg', 'img2.jpg', 'img3.jpg', 'img4.jpg'];
let store: FeatureStore;
let remove: () => Promise<void>;

before(async () => {
  await initTf('wasm');
  // image k: every feature value is k (so a scripted model can tell images apart)
  ({ store, remove } = await tempFeatureStore(IDS, [L, D], (k) => k));
});
after(() => remove());

/** A model that emits a fixed token script per image (image k -> SCRIPTS[k]), and checks what it is fed. */
const SCRIPTS = [
  [5, 6, END, 7, 7, 7, 7, 7],     // -> [5, 6]
  [END, 5, 5, 5, 5, 5, 5, 5],     // -> []
  [4, 4, 4, 4, 4, 4, 4, 4],       // never ends -> maxLength tokens
  [9, END, END, END, END, 8, 8, 8], // -> [9]
  [START, 7, END, 4, 4, 4, 4, 4], // <start> is just a token here -> [2, 7]
];
function scriptedModel(fed: number[][]): CaptionModel {
  return {
    config: { decoder: 'scripted', featureShape: [L, D], vocabSize: V },
    weights: {},
    forward: () => { throw new Error('not used'); },
    start: (features: tf.Tensor3D): DecodeState => ({
      image: tf.slice(features, [0, 0, 0], [-1, 1, 1]).reshape([-1]).toInt(),
      t: tf.scalar(0, 'int32'),
    }),
    next(state: DecodeState, tokens: tf.Tensor1D) {
      const images = Array.from(state.image.dataSync());
      const t = state.t.dataSync()[0];
      fed.push(Array.from(tokens.dataSync()));
      const logits = images.map((k) => Array.from({ length: V }, (_, v) => (v === SCRIPTS[k][t] ? 1 : 0)));
      return { logits: tf.tensor2d(logits, [images.length, V]), state: { image: state.image, t: tf.scalar(t + 1, 'int32') } };
    },
  };
}

test('greedyDecode: stops each caption at its own <end>, never includes it, caps at maxLength', () => {
  const fed: number[][] = [];
  const out = greedyDecode(scriptedModel(fed), store, IDS, 6, 8);
  assert.equal(out.length, IDS.length);
  for (const seq of out) assert.ok(seq.tokens instanceof Int32Array);
  for (const seq of out) assert.equal(seq.attention, undefined, 'a model without attention gives none');
  assert.deepEqual(out.map((s) => Array.from(s.tokens)), [[5, 6], [], [4, 4, 4, 4, 4, 4], [9], [START, 7]]);
  // fed <start> first, then its own previous argmax; runs until all done or maxLength steps
  assert.equal(fed.length, 6);
  assert.deepEqual(fed[0], [START, START, START, START, START]);
  assert.deepEqual(fed[1], SCRIPTS.map((s) => s[0]));
  assert.deepEqual(fed[2], SCRIPTS.map((s) => s[1]));
});

test('greedyDecode: stops early once every caption has ended; batches are independent', () => {
  const fed: number[][] = [];
  const ids = ['img1.jpg', 'img3.jpg', 'img0.jpg'];
  const out = greedyDecode(scriptedModel(fed), store, ids, 20, 8);
  assert.deepEqual(out.map((s) => Array.from(s.tokens)), [[], [9], [5, 6]]);
  assert.equal(fed.length, 3); // the longest ends at step 3
  // image order and batch size do not change any caption
  const one = greedyDecode(scriptedModel([]), store, [...IDS].reverse(), 6, 1);
  const two = greedyDecode(scriptedModel([]), store, [...IDS].reverse(), 6, 2);
  const all = greedyDecode(scriptedModel([]), store, IDS, 6, 5).reverse();
  assert.deepEqual(one, all);
  assert.deepEqual(two, all);
  assert.deepEqual(greedyDecode(scriptedModel([]), store, [], 6, 2), []);
});

test('greedyDecode with an attention-gru: Int32Array per image, <= maxLength, no <end>, no tensor leak', () => {
  const model = createCaptionModel({ decoder: 'attention-gru', featureShape: [L, D], vocabSize: V, embedDim: 5, units: 6 }, 3);
  const maxLength = 7;
  const tensorsBefore = tf.memory().numTensors;
  const out = greedyDecode(model, store, IDS, maxLength, 2);
  assert.equal(tf.memory().numTensors, tensorsBefore, 'greedyDecode must dispose what it creates');
  assert.equal(out.length, IDS.length);
  for (const { tokens: seq, attention } of out) {
    assert.ok(seq instanceof Int32Array);
    assert.ok(seq.length <= maxLength);
    assert.ok(!seq.includes(END), Array.from(seq).join(','));
    assert.ok(seq.every((id) => id >= 0 && id < V));
    // one attention row per emitted word, a distribution over the L feature positions
    assert.equal(attention?.length, seq.length);
    for (const a of attention!) {
      assert.equal(a.length, L);
      assert.ok(Math.abs(a.reduce((x, y) => x + y, 0) - 1) < 1e-4);
    }
  }
  // deterministic, and the same whatever the batch size
  assert.deepEqual(greedyDecode(model, store, IDS, maxLength, 5), out);

  // make <end> overwhelmingly likely: every caption is empty
  model.weights['fc2/bias'].assign(tf.tidy(() => tf.oneHot(tf.tensor1d([END], 'int32'), V).reshape([V]).mul(1e4)));
  assert.deepEqual(greedyDecode(model, store, IDS, maxLength, 2).map((s) => s.tokens.length), [0, 0, 0, 0, 0]);
  // and a word instead: every caption is that word, maxLength times
  model.weights['fc2/bias'].assign(tf.tidy(() => tf.oneHot(tf.tensor1d([8], 'int32'), V).reshape([V]).mul(1e4)));
  assert.deepEqual(greedyDecode(model, store, IDS, maxLength, 2).map((s) => Array.from(s.tokens)), IDS.map(() => new Array(maxLength).fill(8)));
});

test('greedyDecode: attention rows are the ones the model returned for each emitted word (in-memory features)', () => {
  // attention at step t for image k: one-hot at position (k + t) mod L, so rows are checkable exactly
  const scripted = scriptedModel([]);
  const withAttention: CaptionModel = {
    ...scripted,
    next(state, tokens) {
      const t = state.t.dataSync()[0];
      const images = Array.from(state.image.dataSync());
      const r = scripted.next(state, tokens);
      return { ...r, attention: tf.oneHot(tf.tensor1d(images.map((k) => (k + t) % L), 'int32'), L).toFloat() as tf.Tensor2D };
    },
  };
  // a FeatureSource computed in memory, not a FeatureStore
  const source = { shape: [L, D] as [number, number], batch: (ids: string[]) => Float32Array.from(ids.flatMap((id) => new Array<number>(L * D).fill(IDS.indexOf(id)))) };
  const out = greedyDecode(withAttention, source, IDS, 6, 2);
  assert.deepEqual(out.map((s) => Array.from(s.tokens)), [[5, 6], [], [4, 4, 4, 4, 4, 4], [9], [START, 7]]);
  out.forEach((s, k) => {
    assert.equal(s.attention!.length, s.tokens.length);
    s.attention!.forEach((a, t) => assert.deepEqual(Array.from(a), Array.from({ length: L }, (_, l) => (l === (k + t) % L ? 1 : 0))));
  });
});
