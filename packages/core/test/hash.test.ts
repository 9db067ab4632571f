import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { canonicalJson, sha256, sha256File } from '../src/hash.ts';

test('canonicalJson: sorts keys at every depth, including objects inside arrays', () => {
  const value = { b: 1, a: { d: [{ z: 1, y: { q: 2, p: 3 } }, 3], c: null } };
  assert.equal(canonicalJson(value, 0), '{"a":{"c":null,"d":[{"y":{"p":3,"q":2},"z":1},3]},"b":1}\n');
});

test('canonicalJson: arrays keep their order', () => {
  assert.equal(canonicalJson([3, 1, 2, 'b', 'a'], 0), '[3,1,2,"b","a"]\n');
  assert.equal(canonicalJson({ k: [{ b: 1 }, { a: 1 }] }, 0), '{"k":[{"b":1},{"a":1}]}\n');
});

test('canonicalJson: differently ordered objects give identical bytes (and hashes)', () => {
  const x = { stage: 'train', params: { lr: 0.001, epochs: 3, layers: [{ units: 8, act: 'relu' }] }, rows: { b: 2, a: 1 } };
  const y = { rows: { a: 1, b: 2 }, params: { layers: [{ act: 'relu', units: 8 }], epochs: 3, lr: 0.001 }, stage: 'train' };
  assert.equal(canonicalJson(x), canonicalJson(y));
  assert.equal(sha256(canonicalJson(x)), sha256(canonicalJson(y)));
  // but a different value is different
  assert.notEqual(canonicalJson(x), canonicalJson({ ...y, stage: 'evaluate' }));
});

test('canonicalJson: 2-space indent by default, trailing newline, scalars and null untouched', () => {
  assert.equal(canonicalJson({ b: [1], a: 'x' }), '{\n  "a": "x",\n  "b": [\n    1\n  ]\n}\n');
  assert.equal(canonicalJson(null), 'null\n');
  assert.equal(canonicalJson('s'), '"s"\n');
  assert.equal(canonicalJson(0), '0\n');
});

test('canonicalJson: does not mutate its input', () => {
  const v = { b: { d: 1, c: 2 }, a: 1 };
  canonicalJson(v);
  assert.deepEqual(Object.keys(v), ['b', 'a']);
  assert.deepEqual(Object.keys(v.b), ['d', 'c']);
});

const vectors: [string, string][] = [
  ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
];
for (const [input, hex] of vectors) {
  test(`sha256(${JSON.stringify(input)}) matches the NIST vector`, () => {
    assert.equal(sha256(input), hex);
    assert.equal(sha256(new TextEncoder().encode(input)), hex);
  });
}

test('sha256File equals sha256 of the bytes (file larger than one stream chunk)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'core-hash-'));
  try {
    const data = new Uint8Array(200_000).map((_, i) => (i * 31 + 7) & 0xff);
    const file = path.join(dir, 'blob.bin');
    fs.writeFileSync(file, data);
    assert.equal(await sha256File(file), sha256(data));
    fs.writeFileSync(path.join(dir, 'abc.txt'), 'abc');
    assert.equal(await sha256File(path.join(dir, 'abc.txt')), vectors[1][1]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
