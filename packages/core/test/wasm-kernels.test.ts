import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { initTf, tf } from '../src/tf/runtime.ts';
import { assertClose, onCpu, onWasm, randoms, read, size } from './tf-compare.ts';

/**
 * The wasm kernel fixes (tf/wasm-kernels.ts) checked against the reference cpu backend. Tensors are built
 * from plain arrays on each backend; `onCpu` computes there and switches back to wasm.
 */
before(async () => {
  assert.equal(await initTf('wasm'), 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
});

test('wasm: the kernel fixes are registered', () => {
  assert.ok(tf.getKernel('UnsortedSegmentSum', 'wasm'), 'UnsortedSegmentSum');
  assert.ok(tf.getKernel('BatchMatMul', 'wasm'), 'BatchMatMul');
});

test('wasm BatchMatMul with a transpose flag goes through the Transpose kernel and the plain product', () => {
  const transpose = tf.getKernel('Transpose', 'wasm')!;
  const original = transpose.kernelFunc;
  const perms: number[][] = [];
  (transpose as { kernelFunc: tf.KernelFunc }).kernelFunc = (args) => {
    perms.push([...(args.attrs as { perm: number[] }).perm]);
    return original(args);
  };
  try {
    onWasm(() => tf.matMul(tf.ones([2, 3, 4]), tf.ones([2, 5, 4]), false, true).dataSync());
    assert.deepEqual(perms, [[0, 2, 1]], 'b transposed once, last two dims swapped');
    onWasm(() => tf.matMul(tf.ones([4, 3]), tf.ones([4, 5]), true, false).dataSync());
    assert.deepEqual(perms, [[0, 2, 1], [1, 0]]);
    onWasm(() => tf.matMul(tf.ones([3, 4]), tf.ones([4, 5])).dataSync());
    assert.equal(perms.length, 2, 'no transpose for the plain product');
  } finally {
    (transpose as { kernelFunc: tf.KernelFunc }).kernelFunc = original;
  }
});

const segmentCases: { name: string; shape: number[]; ids: number[]; numSegments: number }[] = [
  { name: '[6,4], repeated ids, an empty segment', shape: [6, 4], ids: [2, 0, 2, 1, 0, 2], numSegments: 4 },
  { name: '[6,4], all rows in one segment', shape: [6, 4], ids: [1, 1, 1, 1, 1, 1], numSegments: 2 },
  { name: '[5] (rank 1)', shape: [5], ids: [0, 3, 0, 3, 1], numSegments: 4 },
  { name: '[3,2,2] (rank 3)', shape: [3, 2, 2], ids: [1, 0, 1], numSegments: 2 },
];

for (const c of segmentCases) {
  test(`wasm UnsortedSegmentSum ${c.name} equals cpu`, async () => {
    // multiples of 1/4: sums are exact whatever the summation order
    const x = Array.from({ length: size(c.shape) }, (_, i) => ((i * 7) % 13) / 4 - 1.5);
    const run = () => read(tf.unsortedSegmentSum(tf.tensor(x, c.shape), tf.tensor1d(c.ids, 'int32'), c.numSegments));
    const wasm = onWasm(run);
    const cpu = await onCpu(run);
    assert.deepEqual(wasm, cpu);
    // and against a hand sum, so an agreeing-but-wrong pair would still fail
    const inner = size(c.shape) / c.ids.length;
    const expected = new Array(c.numSegments * inner).fill(0);
    c.ids.forEach((s, row) => { for (let j = 0; j < inner; j++) expected[s * inner + j] += x[row * inner + j]; });
    assert.deepEqual(wasm.values, expected);
    assert.deepEqual(wasm.shape, [c.numSegments, ...c.shape.slice(1)]);
  });
}

const gatherCases: { name: string; params: number[]; indices: number[]; indicesShape: number[] }[] = [
  { name: 'repeated indices', params: [5, 2], indices: [1, 1, 3, 0, 1], indicesShape: [5] },
  { name: '2-D indices (embedding lookup of a batch of sequences)', params: [6, 3], indices: [1, 3, 1, 0, 5, 5], indicesShape: [2, 3] },
];

for (const c of gatherCases) {
  test(`wasm gradient of gather (${c.name}) equals cpu`, async () => {
    const p = randoms(1, size(c.params));
    const outShape = [...c.indicesShape, ...c.params.slice(1)];
    const w = randoms(2, size(outShape));
    const run = () => {
      const f = (params: tf.Tensor) =>
        tf.gather(params, tf.tensor(c.indices, c.indicesShape, 'int32')).mul(tf.tensor(w, outShape)).sum();
      return read(tf.grad(f)(tf.tensor(p, c.params)));
    };
    const wasm = onWasm(run);
    const cpu = await onCpu(run);
    assertClose(wasm, cpu, 1e-6, 'dL/dparams');
    // rows never gathered get no gradient; a row gathered twice gets both contributions
    const inner = size(c.params.slice(1));
    for (let r = 0; r < c.params[0]; r++) {
      const hits = c.indices.filter((i) => i === r).length;
      const row = wasm.values.slice(r * inner, (r + 1) * inner);
      if (hits === 0) assert.ok(row.every((v) => v === 0), `row ${r} must be zero`);
      else assert.ok(row.some((v) => v !== 0), `row ${r} must be non-zero`);
    }
  });
}

// [batch shape of a, m, k] x [batch shape of b, k, n]; transposes swap the last two dims of what is stored
const matMulShapes: { name: string; batchA: number[]; batchB: number[]; m: number; k: number; n: number }[] = [
  { name: 'rank 2', batchA: [], batchB: [], m: 3, k: 4, n: 5 },
  { name: 'rank 3 (batched)', batchA: [2], batchB: [2], m: 3, k: 4, n: 5 },
  { name: 'rank 3 x rank 2 (broadcast b)', batchA: [2], batchB: [], m: 3, k: 4, n: 2 },
  { name: 'rank 3, size-1 dims (transpose is a reshape)', batchA: [2], batchB: [2], m: 1, k: 3, n: 1 },
  { name: 'rank 4', batchA: [2, 3], batchB: [2, 3], m: 2, k: 3, n: 4 },
];

for (const s of matMulShapes) {
  for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    const shapeA = [...s.batchA, ...(tA ? [s.k, s.m] : [s.m, s.k])];
    const shapeB = [...s.batchB, ...(tB ? [s.n, s.k] : [s.k, s.n])];
    const label = `${s.name}: a[${shapeA}]${tA ? 'ᵀ' : ''} x b[${shapeB}]${tB ? 'ᵀ' : ''}`;
    const a = randoms(10, size(shapeA));
    const b = randoms(11, size(shapeB));

    test(`wasm BatchMatMul ${label} equals cpu`, async () => {
      const run = () => read(tf.matMul(tf.tensor(a, shapeA), tf.tensor(b, shapeB), tA, tB));
      const cpu = await onCpu(run);
      const backend = tf.backend() as unknown as { numDataIds(): number };
      const idsBefore = backend.numDataIds();
      const wasm = onWasm(run);
      assert.equal(backend.numDataIds(), idsBefore, 'transposed temporaries are freed');
      assert.deepEqual(wasm.shape, [...s.batchA, s.m, s.n]);
      assertClose(wasm, cpu, 1e-4, label);
    });

    // tfjs-core's BatchMatMul gradient does not reduce broadcast batch dims (fails on cpu too): no grads there
    if (s.batchA.length !== s.batchB.length) continue;
    test(`wasm gradients of matMul ${label} equal cpu`, async () => {
      const run = () => {
        const f = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, tA, tB).square().sum();
        return tf.grads(f)([tf.tensor(a, shapeA), tf.tensor(b, shapeB)]).map(read);
      };
      const cpu = await onCpu(run);
      const wasm = onWasm(run);
      assertClose(wasm[0], cpu[0], 1e-4, 'dL/da');
      assertClose(wasm[1], cpu[1], 1e-4, 'dL/db');
      assert.ok(wasm[0].values.some((v) => v !== 0) && wasm[1].values.some((v) => v !== 0), 'gradients are not all zero');
    });
  }
}

test('wasm: a dense layer trains one step (gather + matMul gradients through an optimizer) like cpu', async () => {
  const emb = randoms(20, 6 * 4);
  const w = randoms(21, 4 * 3);
  const run = () => {
    const E = tf.variable(tf.tensor(emb, [6, 4]));
    const W = tf.variable(tf.tensor(w, [4, 3]));
    const opt = tf.train.adam(0.1);
    const ids = tf.tensor1d([0, 2, 2, 5], 'int32');
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3);
    for (let step = 0; step < 3; step++) {
      opt.minimize(() => tf.losses.softmaxCrossEntropy(labels, tf.matMul(tf.gather(E, ids), W)) as tf.Scalar);
    }
    const out = [read(E), read(W)];
    opt.dispose();
    E.dispose();
    W.dispose();
    return out;
  };
  const cpu = await onCpu(run);
  const wasm = onWasm(run);
  assertClose(wasm[0], cpu[0], 1e-4, 'embedding');
  assertClose(wasm[1], cpu[1], 1e-4, 'weights');
  assert.notDeepEqual(wasm[1].values, w, 'weights moved');
});
