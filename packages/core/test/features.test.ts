import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as arrow from 'apache-arrow';
import { PipelineError } from '../src/errors.ts';
import { decodeFeatureShard, encodeFeatureShard, readFeatureShard, writeFeatureShard, type FeatureShard } from '../src/io/features.ts';
import { toFloat16Bits } from '../src/io/float16.ts';

/** n images of shape [L, D]; value k of image i is i + k/8 (exact in float16 for these sizes). */
function shard(dtype: FeatureShard['dtype'], n: number, L: number, D: number, first = 0): FeatureShard {
  const values = Float32Array.from({ length: n * L * D }, (_, j) => first + Math.floor(j / (L * D)) + (j % (L * D)) / 8);
  return {
    imageIds: Array.from({ length: n }, (_, i) => `img${first + i}`),
    sha256s: Array.from({ length: n }, (_, i) => `sha-${first + i}`),
    shape: [L, D],
    dtype,
    data: dtype === 'float16' ? toFloat16Bits(values) : values,
    metadata: { backbone: 'mobilenet_v2', preprocessing: 'resize 224, [-1,1]', engine: 'tfjs-wasm' },
  };
}

// [n, L, D]: n * L * D * bytes not a multiple of 8 in several cases, i.e. the IPC buffer is padded
const sizes: [number, number, number][] = [[2, 3, 4], [1, 1, 3], [3, 1, 1], [3, 5, 7], [5, 2, 1]];
for (const dtype of ['float16', 'float32'] as const) {
  for (const [n, L, D] of sizes) {
    test(`feature shard ${dtype} [${n}, ${L}, ${D}]: encode/decode round trip keeps data, ids, shape, dtype, metadata`, () => {
      const s = shard(dtype, n, L, D);
      const back = decodeFeatureShard(encodeFeatureShard(s));
      assert.equal(back.dtype, dtype);
      assert.deepEqual(back.shape, [L, D]);
      assert.deepEqual(back.imageIds, s.imageIds);
      assert.deepEqual(back.sha256s, s.sha256s);
      assert.equal(back.data.constructor, s.data.constructor);
      assert.equal(back.data.length, n * L * D);
      assert.deepEqual(Array.from(back.data), Array.from(s.data));
      assert.equal(back.metadata.backbone, 'mobilenet_v2');
      assert.equal(back.metadata.preprocessing, 'resize 224, [-1,1]');
      assert.equal(back.metadata.engine, 'tfjs-wasm');
      assert.equal(back.metadata.shape, JSON.stringify([L, D]));
      assert.equal(back.metadata.dtype, dtype);
    });
  }
}

test('feature shard: the file is Arrow IPC with a FixedSizeList<Float16|Float32>[L*D] features column', () => {
  for (const [dtype, typeName] of [['float16', 'Float16'], ['float32', 'Float32']] as const) {
    const t = arrow.tableFromIPC(encodeFeatureShard(shard(dtype, 2, 3, 4)));
    assert.deepEqual(t.schema.fields.map((f) => f.name), ['image_id', 'sha256', 'features']);
    const type = t.getChild('features')!.type as arrow.FixedSizeList;
    assert.ok(arrow.DataType.isFixedSizeList(type));
    assert.equal(type.listSize, 12);
    assert.equal(String(type.children[0].type), typeName);
  }
});

test('feature shard: encoding is deterministic (same shard -> same bytes)', () => {
  const a = encodeFeatureShard(shard('float16', 3, 2, 5));
  const b = encodeFeatureShard(shard('float16', 3, 2, 5));
  assert.deepEqual(Buffer.from(a), Buffer.from(b));
});

test('feature shard: a file holding several record batches decodes to one contiguous [n, L, D] array', () => {
  for (const dtype of ['float16', 'float32'] as const) {
    const a = shard(dtype, 1, 1, 3, 0); // 3 values: padded in IPC
    const b = shard(dtype, 2, 1, 3, 1);
    const joined = arrow.tableFromIPC(encodeFeatureShard(a)).concat(arrow.tableFromIPC(encodeFeatureShard(b)));
    assert.equal(joined.batches.length, 2);
    const back = decodeFeatureShard(arrow.tableToIPC(joined, 'file'));
    assert.deepEqual(back.imageIds, ['img0', 'img1', 'img2']);
    assert.deepEqual(Array.from(back.data), [...a.data, ...b.data]);
  }
});

test('feature shard: data of the wrong length is rejected', () => {
  for (const delta of [-1, 1]) {
    const s = shard('float32', 2, 3, 4);
    s.data = new Float32Array(s.data.length + delta);
    assert.throws(() => encodeFeatureShard(s), (err: unknown) => {
      assert.ok(err instanceof PipelineError);
      assert.match(err.message, /2x3x4/);
      return true;
    });
  }
});

test('feature shard: bytes without shape/dtype metadata are rejected with PipelineError(input)', () => {
  const t = new arrow.Table({ image_id: arrow.vectorFromArray(['x']), sha256: arrow.vectorFromArray(['y']) });
  assert.throws(() => decodeFeatureShard(arrow.tableToIPC(t, 'file')), { name: 'PipelineError', code: 'input' });
});

test('writeFeatureShard / readFeatureShard go through a file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'core-features-'));
  try {
    const file = path.join(dir, 'shard-000.arrow');
    const s = shard('float16', 2, 2, 2);
    await writeFeatureShard(file, s);
    const back = await readFeatureShard(file);
    assert.deepEqual(back.imageIds, s.imageIds);
    assert.deepEqual(Array.from(back.data), Array.from(s.data));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
