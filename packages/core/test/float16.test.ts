import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromFloat16Bits, toFloat16Bits } from '../src/io/float16.ts';
import { Rng } from '../src/rng.ts';

const bitsOf = (v: number) => toFloat16Bits(Float32Array.of(v))[0];
const valueOf = (bits: number) => fromFloat16Bits(Uint16Array.of(bits))[0];
const hex = (b: number) => `0x${b.toString(16).padStart(4, '0')}`;

const encodeCases: { name: string; value: number; bits: number }[] = [
  { name: '1.0', value: 1, bits: 0x3c00 },
  { name: '-2', value: -2, bits: 0xc000 },
  { name: '0.5', value: 0.5, bits: 0x3800 },
  { name: '1/3 (rounds down)', value: 1 / 3, bits: 0x3555 },
  { name: '0.1 (rounds up)', value: 0.1, bits: 0x2e66 },
  { name: 'max finite 65504', value: 65504, bits: 0x7bff },
  { name: '-65504', value: -65504, bits: 0xfbff },
  { name: '65519 (just below the overflow tie)', value: 65519, bits: 0x7bff },
  { name: '65520 (tie above max) -> inf', value: 65520, bits: 0x7c00 },
  { name: '-65520 -> -inf', value: -65520, bits: 0xfc00 },
  { name: '1e6 overflow -> inf', value: 1e6, bits: 0x7c00 },
  { name: '+inf', value: Infinity, bits: 0x7c00 },
  { name: '-inf', value: -Infinity, bits: 0xfc00 },
  { name: '+0', value: 0, bits: 0x0000 },
  { name: '-0', value: -0, bits: 0x8000 },
  { name: 'smallest normal 2^-14', value: 2 ** -14, bits: 0x0400 },
  { name: 'largest subnormal 2^-14 - 2^-24', value: 2 ** -14 - 2 ** -24, bits: 0x03ff },
  { name: 'smallest subnormal 2^-24', value: 2 ** -24, bits: 0x0001 },
  { name: '-2^-24', value: -(2 ** -24), bits: 0x8001 },
  { name: 'subnormal 2^-15', value: 2 ** -15, bits: 0x0200 },
  { name: '2^-25 (tie between 0 and 2^-24) -> 0, even', value: 2 ** -25, bits: 0x0000 },
  { name: '-2^-25 -> -0', value: -(2 ** -25), bits: 0x8000 },
  { name: '1.5 * 2^-25 (above the tie) -> 2^-24', value: 1.5 * 2 ** -25, bits: 0x0001 },
  { name: '3 * 2^-25 (subnormal tie 1|2) -> 2, even', value: 3 * 2 ** -25, bits: 0x0002 },
  { name: '5 * 2^-25 (subnormal tie 2|3) -> 2, even', value: 5 * 2 ** -25, bits: 0x0002 },
  { name: '7 * 2^-25 (subnormal tie 3|4) -> 4, even', value: 7 * 2 ** -25, bits: 0x0004 },
  { name: '2^-14 - 2^-25 (tie rounds up into the normal range)', value: 2 ** -14 - 2 ** -25, bits: 0x0400 },
  { name: '1e-10 underflow -> +0', value: 1e-10, bits: 0x0000 },
  { name: '-1e-10 underflow -> -0', value: -1e-10, bits: 0x8000 },
  { name: '1 + 2^-11 (tie 0x3c00|0x3c01) -> even', value: 1 + 2 ** -11, bits: 0x3c00 },
  { name: '1 + 3 * 2^-11 (tie 0x3c01|0x3c02) -> even', value: 1 + 3 * 2 ** -11, bits: 0x3c02 },
  { name: '1 + 2^-11 + 2^-20 (just above the tie)', value: 1 + 2 ** -11 + 2 ** -20, bits: 0x3c01 },
  { name: '1 + 2^-11 - 2^-20 (just below the tie)', value: 1 + 2 ** -11 - 2 ** -20, bits: 0x3c00 },
  { name: '2049 (tie 2048|2050) -> 2048', value: 2049, bits: 0x6800 },
  { name: '2051 (tie 2050|2052) -> 2052', value: 2051, bits: 0x6802 },
  { name: '2047.5 (tie carries into the exponent) -> 2048', value: 2047.5, bits: 0x6800 },
  { name: '-2049 -> -2048', value: -2049, bits: 0xe800 },
];

for (const c of encodeCases) {
  test(`float16 encode: ${c.name} -> ${hex(c.bits)}`, () => {
    assert.equal(hex(bitsOf(c.value)), hex(c.bits));
  });
}

test('float16 encode: NaN payloads stay NaN (all-ones exponent, non-zero mantissa), sign kept', () => {
  // quiet NaN, negative quiet NaN, and a NaN whose only mantissa bit is lost by the 13-bit shift
  for (const raw of [0x7fc00000, 0xffc00000, 0x7f800001]) {
    const f = new Float32Array(new Uint32Array([raw]).buffer);
    const b = toFloat16Bits(f)[0];
    assert.equal(b & 0x7c00, 0x7c00, hex(b));
    assert.notEqual(b & 0x03ff, 0, `${hex(b)} must not be infinity`);
    assert.equal(b & 0x8000, raw >>> 31 ? 0x8000 : 0, `sign of ${hex(b)}`);
    assert.ok(Number.isNaN(valueOf(b)));
  }
});

const decodeCases: { bits: number; value: number }[] = [
  { bits: 0x3c00, value: 1 },
  { bits: 0xc000, value: -2 },
  { bits: 0x7bff, value: 65504 },
  { bits: 0x0001, value: 2 ** -24 },
  { bits: 0x03ff, value: 1023 * 2 ** -24 },
  { bits: 0x0400, value: 2 ** -14 },
  { bits: 0x3555, value: 0.333251953125 },
  { bits: 0x7c00, value: Infinity },
  { bits: 0xfc00, value: -Infinity },
  { bits: 0x0000, value: 0 },
  { bits: 0x8000, value: -0 },
];

for (const c of decodeCases) {
  test(`float16 decode: ${hex(c.bits)} -> ${Object.is(c.value, -0) ? '-0' : c.value}`, () => {
    assert.ok(Object.is(valueOf(c.bits), c.value), `got ${valueOf(c.bits)}`);
  });
}

test('float16 decode: NaN patterns decode to NaN', () => {
  for (const b of [0x7e00, 0x7c01, 0xfe00, 0x7fff]) assert.ok(Number.isNaN(valueOf(b)), hex(b));
});

test('float16: every non-NaN bit pattern survives decode -> encode unchanged', () => {
  const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
  const back = toFloat16Bits(fromFloat16Bits(all));
  for (let h = 0; h < 65536; h++) {
    const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x03ff) !== 0;
    if (!isNaN && back[h] !== h) assert.fail(`${hex(h)} came back as ${hex(back[h])}`);
  }
});

test('float16 decode: writes into a caller-supplied array', () => {
  const out = new Float32Array(4).fill(99);
  const res = fromFloat16Bits(Uint16Array.of(0x3c00, 0xc000), out.subarray(1, 3));
  assert.deepEqual(Array.from(out), [99, 1, -2, 99]);
  assert.equal(res.buffer, out.buffer);
});

test('float16 round trip: random values within half an ulp (seeded)', () => {
  const rng = new Rng(20240611);
  const n = 20000;
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = (rng.next() * 2 - 1) * 2 ** (rng.int(44) - 28); // subnormal .. ~65k
  const back = fromFloat16Bits(toFloat16Bits(values));
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const a = Math.abs(v);
    // half-precision spacing at |v|: 2^(e-10) for normals, 2^-24 for subnormals
    const ulp = a < 2 ** -14 ? 2 ** -24 : 2 ** (Math.floor(Math.log2(a)) - 10);
    const err = Math.abs(back[i] - v);
    if (!(err <= ulp / 2)) assert.fail(`value ${v} decoded as ${back[i]}: error ${err} > half ulp ${ulp / 2}`);
    if (back[i] !== 0 && Math.sign(back[i]) !== Math.sign(v)) assert.fail(`sign flipped for ${v}`);
  }
});
