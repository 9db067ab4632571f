import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { flickrSource, parseSplitLists, parseTokenFile } from '../../src/formats/flickr.ts';
import { assertCountsAddUp, ingest, makeImage, tokenLines, withTmp, writeFiles } from '../fixtures.ts';

const SRC = 'Flickr8k_text/Flickr8k.token.txt';
const DIR = 'Flicker8k_Dataset';
const enc = (s: string) => new TextEncoder().encode(s);
const parse = (text: string | Uint8Array) => parseTokenFile(typeof text === 'string' ? enc(text) : text, SRC, DIR);

test('parseTokenFile: well-formed lines become captions with image id, #n, path, source and 1-based line number', () => {
  const r = parse('a.jpg#0\tA dog runs .\na.jpg#1\t  two dogs  \nb.jpg#12\tA cat\n');
  assert.equal(r.recordsRead, 3);
  assert.deepEqual(r.rejects, []);
  assert.deepEqual(r.captions, [
    { image_id: 'a.jpg', path: `${DIR}/a.jpg`, caption_index: 0, caption: 'A dog runs .', source: SRC, record: 1, raw: 'a.jpg#0\tA dog runs .' },
    { image_id: 'a.jpg', path: `${DIR}/a.jpg`, caption_index: 1, caption: 'two dogs', source: SRC, record: 2, raw: 'a.jpg#1\t  two dogs  ' },
    { image_id: 'b.jpg', path: `${DIR}/b.jpg`, caption_index: 12, caption: 'A cat', source: SRC, record: 3, raw: 'b.jpg#12\tA cat' },
  ]);
});

const badCases: {
  name: string;
  text: string | Uint8Array;
  rejects: { record: number; raw: string; reason: string }[];
  kept: [string, number, number][]; // image_id, caption_index, record
  recordsRead: number;
}[] = [
  {
    name: 'line without tab',
    text: 'a.jpg#0\tok\na.jpg#1 no tab here\n',
    rejects: [{ record: 2, raw: 'a.jpg#1 no tab here', reason: 'line without tab' }],
    kept: [['a.jpg', 0, 1]],
    recordsRead: 2,
  },
  {
    name: 'caption id without #n',
    text: 'a.jpg\tno index\na.jpg#x\tletters\n#3\tno image\na.jpg#\tempty n\na.jpg#0\tok',
    rejects: [
      { record: 1, raw: 'a.jpg\tno index', reason: 'caption id without #n' },
      { record: 2, raw: 'a.jpg#x\tletters', reason: 'caption id without #n' },
      { record: 3, raw: '#3\tno image', reason: 'caption id without #n' },
      { record: 4, raw: 'a.jpg#\tempty n', reason: 'caption id without #n' },
    ],
    kept: [['a.jpg', 0, 5]],
    recordsRead: 5,
  },
  {
    name: 'empty caption (also whitespace-only)',
    text: 'a.jpg#0\t\na.jpg#1\t   \t \na.jpg#2\tok\n',
    rejects: [
      { record: 1, raw: 'a.jpg#0\t', reason: 'empty caption' },
      { record: 2, raw: 'a.jpg#1\t   \t ', reason: 'empty caption' },
    ],
    kept: [['a.jpg', 2, 3]],
    recordsRead: 3,
  },
  {
    name: 'duplicate caption id: the first occurrence wins',
    text: 'a.jpg#0\tfirst\nb.jpg#0\tother\na.jpg#0\tsecond\n',
    rejects: [{ record: 3, raw: 'a.jpg#0\tsecond', reason: 'duplicate caption id' }],
    kept: [['a.jpg', 0, 1], ['b.jpg', 0, 2]],
    recordsRead: 3,
  },
  {
    name: 'non-UTF-8 bytes: that line only, raw shows U+FFFD',
    text: Uint8Array.from([...enc('a.jpg#0\tok\na.jpg#1\tbad '), 0xff, ...enc(' byte\na.jpg#2\tfine\n')]),
    rejects: [{ record: 2, raw: 'a.jpg#1\tbad \ufffd byte', reason: 'non-UTF-8 bytes' }],
    kept: [['a.jpg', 0, 1], ['a.jpg', 2, 3]],
    recordsRead: 3,
  },
  {
    name: 'blank lines are not records but still count as lines',
    text: '\n\na.jpg#0\tone\n   \n\t\nbad line\n\n',
    rejects: [{ record: 6, raw: 'bad line', reason: 'line without tab' }],
    kept: [['a.jpg', 0, 3]],
    recordsRead: 2,
  },
  {
    name: 'CRLF line endings',
    text: 'a.jpg#0\tone\r\na.jpg#1\ttwo\r\nbroken\r\n',
    rejects: [{ record: 3, raw: 'broken', reason: 'line without tab' }],
    kept: [['a.jpg', 0, 1], ['a.jpg', 1, 2]],
    recordsRead: 3,
  },
  {
    name: 'first matching reason wins (no tab before #n check)',
    text: 'a.jpg caption',
    rejects: [{ record: 1, raw: 'a.jpg caption', reason: 'line without tab' }],
    kept: [],
    recordsRead: 1,
  },
  {
    name: 'first matching reason wins (non-UTF-8 before anything else)',
    text: Uint8Array.from([0xff, ...enc(' no tab')]),
    rejects: [{ record: 1, raw: '\ufffd no tab', reason: 'non-UTF-8 bytes' }],
    kept: [],
    recordsRead: 1,
  },
];

for (const c of badCases) {
  test(`parseTokenFile rejects: ${c.name}`, () => {
    const r = parse(c.text);
    assert.deepEqual(r.rejects, c.rejects.map((x) => ({ source: SRC, ...x })));
    assert.deepEqual(r.captions.map((x) => [x.image_id, x.caption_index, x.record]), c.kept);
    assert.equal(r.recordsRead, c.recordsRead);
    // every record is either kept or rejected
    assert.equal(r.captions.length + r.rejects.length, r.recordsRead);
    // CRLF never leaks into the kept text
    for (const k of r.captions) assert.doesNotMatch(k.caption + k.raw, /\r/);
  });
}

test('parseTokenFile: id keeps everything before the last #n (ids may contain #)', () => {
  const r = parse('we#ird.jpg#3\tcaption');
  assert.deepEqual(r.captions.map((c) => [c.image_id, c.path, c.caption_index]), [['we#ird.jpg', `${DIR}/we#ird.jpg`, 3]]);
});

test('parseTokenFile: an id that leaves the image folder keeps its path as written (for the escape check)', () => {
  const r = parse('../x.jpg#0\tup\n/etc/passwd#0\tabsolute\nsub/a.jpg#0\tsub folder\n');
  assert.deepEqual(r.captions.map((c) => [c.image_id, c.path]), [
    ['../x.jpg', '../x.jpg'],
    ['/etc/passwd', '/etc/passwd'],
    ['sub/a.jpg', `${DIR}/sub/a.jpg`],
  ]);
});

test('parseTokenFile: empty input', () => {
  assert.deepEqual(parse(''), { captions: [], rejects: [], recordsRead: 0 });
});

const list = (split: 'train' | 'dev' | 'test', text: string | Uint8Array) =>
  ({ split, source: `Flickr8k_text/Flickr_8k.${split}Images.txt`, bytes: typeof text === 'string' ? enc(text) : text });

test('parseSplitLists: names map to their split, blanks/whitespace/CRLF ignored, missing lists allowed', () => {
  const r = parseSplitLists([list('train', 'a.jpg\n b.jpg \r\n\n'), list('dev', 'c.jpg\r\n')], new Set(['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg']));
  assert.deepEqual([...r.splitOf].sort(), [['a.jpg', 'train'], ['b.jpg', 'train'], ['c.jpg', 'dev']]);
  assert.equal(r.splitOf.get('d.jpg'), undefined);
  assert.equal(r.recordsRead, 3);
  assert.deepEqual(r.rejects, []);
  assert.deepEqual(parseSplitLists([], new Set(['a.jpg'])), { splitOf: new Map(), rejects: [], recordsRead: 0 });
});

test('parseSplitLists: unknown images, an image in two lists (first wins) and non-UTF-8 lines are rejected', () => {
  const r = parseSplitLists([
    list('train', 'a.jpg\nghost.jpg\nb.jpg\n'),
    list('dev', Uint8Array.from([...enc('c.jpg\n'), 0xfe, ...enc('.jpg\n')])),
    list('test', 'a.jpg\nd.jpg\n'),
  ], new Set(['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg']));
  assert.deepEqual([...r.splitOf].sort(), [['a.jpg', 'train'], ['b.jpg', 'train'], ['c.jpg', 'dev'], ['d.jpg', 'test']]);
  assert.deepEqual(r.rejects, [
    { source: 'Flickr8k_text/Flickr_8k.trainImages.txt', record: 2, raw: 'ghost.jpg', reason: 'split list names an unknown image' },
    { source: 'Flickr8k_text/Flickr_8k.devImages.txt', record: 2, raw: '\ufffd.jpg', reason: 'non-UTF-8 bytes' },
    { source: 'Flickr8k_text/Flickr_8k.testImages.txt', record: 1, raw: 'a.jpg', reason: "image already in split 'train'" },
  ]);
  assert.equal(r.recordsRead, 7);
});

test('flickrSource: without split lists there is no splitOf (the stage then splits by seed); with them, unknowns are checked against parsed captions', () => {
  const tokens = { source: SRC, bytes: enc('a.jpg#0\tx\nb.jpg\tno index\n') };
  const none = flickrSource('flickr30k', tokens, [], 'flickr30k-images');
  assert.equal(none.format, 'flickr30k');
  assert.equal(none.splitOf, undefined);
  assert.deepEqual([none.recordsRead, none.splitRecordsRead, none.splitRejects, none.imageDirs, none.listedImages], [2, 0, [], ['flickr30k-images'], []]);
  assert.equal(none.captions[0].path, 'flickr30k-images/a.jpg');
  // b.jpg's only record was rejected, so a split list naming it names an unknown image
  const withLists = flickrSource('flickr8k', tokens, [list('train', 'a.jpg\nb.jpg\n')], DIR);
  assert.deepEqual([...withLists.splitOf!], [['a.jpg', 'train']]);
  assert.deepEqual(withLists.splitRejects.map((r) => [r.raw, r.reason]), [['b.jpg', 'split list names an unknown image']]);
  assert.equal(withLists.splitRecordsRead, 2);
});

// ---- through the stage, on generated data sets ----

const CAPS = (id: string) => Array.from({ length: 5 }, (_, k) => `caption ${k} of ${id}`);

async function writeFlickr8k(root: string, n: number, opts: { lemmas?: boolean; flat?: boolean } = {}) {
  const ids = Array.from({ length: n }, (_, i) => `${1000 + i}_abc.jpg`);
  const text = opts.flat ? '' : 'Flickr8k_text/';
  const files: Record<string, string | Uint8Array> = {
    [`${text}Flickr8k.token.txt`]: tokenLines(Object.fromEntries(ids.map((id) => [id, CAPS(id)]))).join('\n') + '\n',
    [`${text}Flickr_8k.trainImages.txt`]: ids.slice(0, n - 3).join('\n') + '\n',
    [`${text}Flickr_8k.devImages.txt`]: ids[n - 3] + '\n',
    [`${text}Flickr_8k.testImages.txt`]: ids[n - 2] + '\n', // ids[n-1] is in no list
  };
  if (opts.lemmas) {
    files[`${text}Flickr8k.lemma.token.txt`] =
      tokenLines(Object.fromEntries(ids.map((id) => [id, CAPS(id).map((c) => `lemma ${c}`)]))).join('\n') + '\n';
  }
  for (const [i, id] of ids.entries()) files[`Flicker8k_Dataset/${id}`] = await makeImage(i);
  await writeFiles(root, files);
  return ids;
}

test('Flickr8k through the stage: detected, official splits (unlisted image -> none), same result when forced', async () => {
  await withTmp('flickr8k', async (tmp) => {
    const data = path.join(tmp, 'data');
    const ids = await writeFlickr8k(data, 6);
    const r = await ingest(data, path.join(tmp, 'auto'));
    assert.equal(r.manifest.extra?.format, 'flickr8k');
    assertCountsAddUp(r);
    assert.deepEqual(r.rejects, []);
    assert.equal(r.manifest.rows.caption_records, 30);
    assert.equal(r.manifest.rows.split_records, 5);
    assert.deepEqual(r.images.map((i) => [i.image_id, i.path, i.split]), [
      [ids[0], `Flicker8k_Dataset/${ids[0]}`, 'train'], [ids[1], `Flicker8k_Dataset/${ids[1]}`, 'train'],
      [ids[2], `Flicker8k_Dataset/${ids[2]}`, 'train'], [ids[3], `Flicker8k_Dataset/${ids[3]}`, 'dev'],
      [ids[4], `Flicker8k_Dataset/${ids[4]}`, 'test'], [ids[5], `Flicker8k_Dataset/${ids[5]}`, 'none'],
    ]);
    assert.deepEqual(r.captions.filter((c) => c.image_id === ids[3]).map((c) => [c.caption_index, c.caption, c.split]),
      CAPS(ids[3]).map((c, k) => [k, c, 'dev']));
    const forced = await ingest(data, path.join(tmp, 'forced'), { format: 'flickr8k' });
    assert.deepEqual([forced.images, forced.captions, forced.rejects], [r.images, r.captions, r.rejects]);
  });
});

test('Flickr8k lemmas: true reads Flickr8k.lemma.token.txt (and fails clearly without one)', async () => {
  await withTmp('flickr8k-lemma', async (tmp) => {
    const data = path.join(tmp, 'data');
    const ids = await writeFlickr8k(data, 4, { lemmas: true });
    const plain = await ingest(data, path.join(tmp, 'plain'));
    const lemma = await ingest(data, path.join(tmp, 'lemma'), { lemmas: true });
    assert.deepEqual(plain.captions.filter((c) => c.image_id === ids[0]).map((c) => c.caption), CAPS(ids[0]));
    assert.deepEqual(lemma.captions.filter((c) => c.image_id === ids[0]).map((c) => c.caption), CAPS(ids[0]).map((c) => `lemma ${c}`));
    assert.equal(lemma.captions.length, 20);
    assert.ok(lemma.captions.every((c) => c.caption.startsWith('lemma ')));
    assert.deepEqual(lemma.images, plain.images); // same images and official splits
    assertCountsAddUp(lemma);
  });
});

test('Flickr8k flat layout (text files next to the images folder) is read too', async () => {
  await withTmp('flickr8k-flat', async (tmp) => {
    const data = path.join(tmp, 'data');
    await writeFlickr8k(data, 4, { flat: true });
    const r = await ingest(data, path.join(tmp, 'out'));
    assert.equal(r.manifest.extra?.format, 'flickr8k');
    assert.deepEqual(r.images.map((i) => i.split), ['train', 'dev', 'test', 'none']);
    assert.equal(r.manifest.rows.split_records, 3);
    assertCountsAddUp(r);
  });
});

async function writeFlickr30k(root: string, n: number) {
  const ids = Array.from({ length: n }, (_, i) => `${36979 + i * 7}.jpg`);
  const files: Record<string, string | Uint8Array> = {
    'results_20130124.token': tokenLines(Object.fromEntries(ids.map((id) => [id, CAPS(id)]))).join('\n') + '\n',
  };
  for (const [i, id] of ids.entries()) files[`flickr30k-images/${id}`] = await makeImage(100 + i, 'jpeg', 16);
  await writeFiles(root, files);
  return ids;
}

test('Flickr30k through the stage: seeded split by image, fractions respected, same seed same split, other seed other split', async () => {
  await withTmp('flickr30k', async (tmp) => {
    const data = path.join(tmp, 'data');
    const ids = await writeFlickr30k(data, 20);
    const fractions = { splitFractions: { train: 0.5, dev: 0.25, test: 0.25 } };
    const a = await ingest(data, path.join(tmp, 'a'), fractions, 11);
    assert.equal(a.manifest.extra?.format, 'flickr30k');
    assertCountsAddUp(a);
    assert.deepEqual(a.rejects, []);
    assert.deepEqual(a.images.map((i) => i.image_id), [...ids].sort());
    assert.ok(a.images.every((i) => i.path === `flickr30k-images/${i.image_id}`));
    assert.equal(a.captions.length, 100);
    assert.deepEqual([a.manifest.rows.images_train, a.manifest.rows.images_dev, a.manifest.rows.images_test, a.manifest.rows.images_none], [10, 5, 5, 0]);
    // by image: every caption of an image has the image's split
    const splitOf = new Map(a.images.map((i) => [i.image_id, i.split]));
    for (const c of a.captions) assert.equal(c.split, splitOf.get(c.image_id), `${c.image_id}#${c.caption_index}`);

    const again = await ingest(data, path.join(tmp, 'again'), { ...fractions, format: 'flickr30k' }, 11);
    assert.deepEqual(again.images, a.images);
    assert.deepEqual(again.captions, a.captions);

    const other = await ingest(data, path.join(tmp, 'other'), fractions, 12);
    assert.notDeepEqual(other.images.map((i) => i.split), a.images.map((i) => i.split));
    assert.deepEqual([other.manifest.rows.images_train, other.manifest.rows.images_dev, other.manifest.rows.images_test], [10, 5, 5]);
  });
});
