import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeLines, decodeUtf8 } from '../../src/formats/text.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const bytes = (...parts: (string | number[])[]) =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...enc(p)] : p)));
const lines = (b: Uint8Array) => decodeLines(b).map(({ record, text, utf8 }) => [record, text, utf8]);

const cases: { name: string; input: Uint8Array; expected: [number, string, boolean][] }[] = [
  { name: 'empty input has no lines', input: bytes(''), expected: [] },
  { name: 'a lone newline is one blank line', input: bytes('\n'), expected: [[1, '', true]] },
  { name: 'trailing newline adds no line', input: bytes('a\nb\n'), expected: [[1, 'a', true], [2, 'b', true]] },
  { name: 'no trailing newline keeps the last line', input: bytes('a\nb'), expected: [[1, 'a', true], [2, 'b', true]] },
  { name: 'CRLF: the \\r is dropped', input: bytes('a\tx\r\nb\r\n'), expected: [[1, 'a\tx', true], [2, 'b', true]] },
  { name: 'CR only at line end: a \\r inside a line stays', input: bytes('a\rb\r\n\r\n'), expected: [[1, 'a\rb', true], [2, '', true]] },
  { name: 'blank lines are returned and numbered', input: bytes('\n\na\n \n'), expected: [[1, '', true], [2, '', true], [3, 'a', true], [4, ' ', true]] },
  { name: 'a UTF-8 BOM is skipped', input: bytes([0xef, 0xbb, 0xbf], 'image,caption\nx'), expected: [[1, 'image,caption', true], [2, 'x', true]] },
  { name: 'a BOM-only file has no lines', input: bytes([0xef, 0xbb, 0xbf]), expected: [] },
  // (files joined with `cat` keep their BOMs: one at a line start is dropped too; elsewhere it is text)
  { name: 'a BOM at a line start is dropped, inside a line kept', input: bytes('a\n', [0xef, 0xbb, 0xbf], 'b\nc', [0xef, 0xbb, 0xbf]), expected: [[1, 'a', true], [2, 'b', true], [3, 'c\ufeff', true]] },
  { name: 'multi-byte UTF-8 is valid', input: bytes('café — 犬\n'), expected: [[1, 'café — 犬', true]] },
  {
    name: 'invalid UTF-8 is flagged on its own line only, with its record number',
    input: bytes('ok\nbad ', [0xff], ' byte\r\nalso ok\n', [0xc3], '\n'),
    expected: [[1, 'ok', true], [2, 'bad \ufffd byte', false], [3, 'also ok', true], [4, '\ufffd', false]],
  },
  { name: 'an overlong encoding is not UTF-8', input: bytes([0xc0, 0xaf]), expected: [[1, '\ufffd\ufffd', false]] },
];

for (const c of cases) {
  test(`decodeLines: ${c.name}`, () => {
    assert.deepEqual(lines(c.input), c.expected);
  });
}

test('decodeLines: every line is returned (record numbers are 1..n with no gaps)', () => {
  const text = Array.from({ length: 50 }, (_, i) => (i % 7 === 3 ? '' : `line ${i}`)).join('\n');
  const out = decodeLines(enc(text));
  assert.deepEqual(out.map((l) => l.record), Array.from({ length: 50 }, (_, i) => i + 1));
  assert.deepEqual(out.map((l) => l.text), text.split('\n'));
});

test('decodeUtf8: valid text decodes, a leading BOM is dropped; invalid bytes name the file', () => {
  assert.equal(decodeUtf8(enc('{"a":"é"}'), 'x.json'), '{"a":"é"}');
  assert.equal(decodeUtf8(bytes([0xef, 0xbb, 0xbf], '{}'), 'x.json'), '{}');
  assert.throws(() => decodeUtf8(bytes('{"a":"', [0xff], '"}'), 'annotations/captions_val2014.json'), {
    message: 'annotations/captions_val2014.json is not valid UTF-8',
  });
});
