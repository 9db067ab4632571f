import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FLICKR8K_FILES, parseSplitLists, parseTokenFile } from '../src/flickr8k.ts';

const SRC = FLICKR8K_FILES.tokens;

test('parseTokenFile: well-formed lines become captions with image id, #n and 1-based line number', () => {
  const text = 'a.jpg#0\tA dog runs .\na.jpg#1\t  two dogs  \nb.jpg#12\tA cat\n';
  const r = parseTokenFile(text);
  assert.equal(r.source, SRC);
  assert.equal(r.linesRead, 3);
  assert.deepEqual(r.rejects, []);
  assert.deepEqual(r.captions, [
    { image_id: 'a.jpg', caption_index: 0, caption: 'A dog runs .', record: 1, raw: 'a.jpg#0\tA dog runs .' },
    { image_id: 'a.jpg', caption_index: 1, caption: 'two dogs', record: 2, raw: 'a.jpg#1\t  two dogs  ' },
    { image_id: 'b.jpg', caption_index: 12, caption: 'A cat', record: 3, raw: 'b.jpg#12\tA cat' },
  ]);
});

const badCases: {
  name: string;
  text: string;
  rejects: { record: number; raw: string; reason: string }[];
  kept: [string, number, number][]; // image_id, caption_index, record
  linesRead: number;
}[] = [
  {
    name: 'line without tab',
    text: 'a.jpg#0\tok\na.jpg#1 no tab here\n',
    rejects: [{ record: 2, raw: 'a.jpg#1 no tab here', reason: 'line without tab' }],
    kept: [['a.jpg', 0, 1]],
    linesRead: 2,
  },
  {
    name: 'caption id without #n',
    text: 'a.jpg\tno index\na.jpg#x\tletters\n#3\tno image\na.jpg#0\tok',
    rejects: [
      { record: 1, raw: 'a.jpg\tno index', reason: 'caption id without #n' },
      { record: 2, raw: 'a.jpg#x\tletters', reason: 'caption id without #n' },
      { record: 3, raw: '#3\tno image', reason: 'caption id without #n' },
    ],
    kept: [['a.jpg', 0, 4]],
    linesRead: 4,
  },
  {
    name: 'empty caption (also whitespace-only)',
    text: 'a.jpg#0\t\na.jpg#1\t   \t \na.jpg#2\tok\n',
    rejects: [
      { record: 1, raw: 'a.jpg#0\t', reason: 'empty caption' },
      { record: 2, raw: 'a.jpg#1\t   \t ', reason: 'empty caption' },
    ],
    kept: [['a.jpg', 2, 3]],
    linesRead: 3,
  },
  {
    name: 'duplicate caption id: the first occurrence wins',
    text: 'a.jpg#0\tfirst\nb.jpg#0\tother\na.jpg#0\tsecond\n',
    rejects: [{ record: 3, raw: 'a.jpg#0\tsecond', reason: 'duplicate caption id' }],
    kept: [['a.jpg', 0, 1], ['b.jpg', 0, 2]],
    linesRead: 3,
  },
  {
    name: 'blank lines are not records but still count as lines',
    text: '\n\na.jpg#0\tone\n   \n\t\nbad line\n\n',
    rejects: [{ record: 6, raw: 'bad line', reason: 'line without tab' }],
    kept: [['a.jpg', 0, 3]],
    linesRead: 2,
  },
  {
    name: 'CRLF line endings',
    text: 'a.jpg#0\tone\r\na.jpg#1\ttwo\r\nbroken\r\n',
    rejects: [{ record: 3, raw: 'broken', reason: 'line without tab' }],
    kept: [['a.jpg', 0, 1], ['a.jpg', 1, 2]],
    linesRead: 3,
  },
  {
    name: 'first matching reason wins (no tab before #n check)',
    text: 'a.jpg caption',
    rejects: [{ record: 1, raw: 'a.jpg caption', reason: 'line without tab' }],
    kept: [],
    linesRead: 1,
  },
];

for (const c of badCases) {
  test(`parseTokenFile rejects: ${c.name}`, () => {
    const r = parseTokenFile(c.text, 'captions.txt');
    assert.deepEqual(r.rejects, c.rejects.map((x) => ({ source: 'captions.txt', ...x })));
    assert.deepEqual(r.captions.map((x) => [x.image_id, x.caption_index, x.record]), c.kept);
    assert.equal(r.linesRead, c.linesRead);
    // every record is either kept or rejected
    assert.equal(r.captions.length + r.rejects.length, r.linesRead);
    // CRLF never leaks into the kept text
    for (const k of r.captions) assert.doesNotMatch(k.caption + k.raw, /\r/);
  });
}

test('parseTokenFile: id keeps everything before the last #n (ids may contain #)', () => {
  const r = parseTokenFile('we#ird.jpg#3\tcaption');
  assert.deepEqual(r.captions.map((c) => [c.image_id, c.caption_index]), [['we#ird.jpg', 3]]);
});

test('parseTokenFile: empty input', () => {
  assert.deepEqual(parseTokenFile(''), { captions: [], rejects: [], linesRead: 0, source: SRC });
});

test('parseSplitLists: names map to their split, blanks/whitespace/CRLF ignored, missing lists allowed', () => {
  const m = parseSplitLists({
    train: 'a.jpg\n b.jpg \r\n\n',
    dev: 'c.jpg\r\n',
    // test omitted
  });
  assert.deepEqual([...m].sort(), [['a.jpg', 'train'], ['b.jpg', 'train'], ['c.jpg', 'dev']]);
  assert.equal(m.get('d.jpg'), undefined);
  assert.equal(parseSplitLists({}).size, 0);
});
