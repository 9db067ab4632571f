import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flickrSource } from '../src/formats/flickr.ts';
import type { CaptionRecord, CaptionSource, ImageProbe, RejectRow, Split } from '../src/rows.ts';
import { seededSplit } from '../src/split.ts';
import { assembleTables, type IngestInputs, type IngestTables } from '../src/transform.ts';

const SRC = 'Flickr8k_text/Flickr8k.token.txt';
const DIR = 'Images';
const FR = { train: 0.8, dev: 0.1, test: 0.1 };
const ok = (n: number, orientation = 1): ImageProbe =>
  ({ ok: true, sha256: `sha${n}`, width: 10 * n, height: 5 * n, format: 'jpeg', bytes: 100 * n, orientation });
const enc = (s: string) => new TextEncoder().encode(s);

/** A Flickr-style source from token lines (+ optional split lists), as the stage would read it. */
function flickr(lines: string[], lists?: Partial<Record<'train' | 'dev' | 'test', string[]>>): CaptionSource {
  const splitLists = Object.entries(lists ?? {}).map(([split, names]) =>
    ({ split: split as 'train' | 'dev' | 'test', source: `Flickr8k_text/Flickr_8k.${split}Images.txt`, bytes: enc(names.join('\n')) }));
  return flickrSource('flickr8k', { source: SRC, bytes: enc(lines.join('\n')) }, splitLists, DIR);
}

/** A hand-built source (e.g. a format that lists its images and gives splits). */
function listed(records: [string, number, string][], images: string[], splitOf?: Record<string, Split>): CaptionSource {
  const captions: CaptionRecord[] = records.map(([id, k, caption], i) =>
    ({ image_id: id, path: `${DIR}/${id}`, caption_index: k, caption, source: 'c.json#annotations', record: i + 1, raw: caption }));
  return {
    format: 'test', captions, rejects: [], recordsRead: captions.length,
    splitOf: splitOf && new Map(Object.entries(splitOf)),
    splitRecordsRead: 0, splitRejects: [], imageDirs: [DIR],
    listedImages: images.map((id, i) => ({ image_id: id, path: `${DIR}/${id}`, source: 'c.json#images', record: i + 1 })),
  };
}

const run = (source: CaptionSource, probes: Record<string, ImageProbe>, unreferencedFiles: string[] = [], splitSeed = 3): IngestTables =>
  assembleTables({ source, probes: new Map(Object.entries(probes).map(([id, p]) => [`${DIR}/${id}`, p])), unreferencedFiles, splitSeed, splitFractions: FR } satisfies IngestInputs);

/** Invariants every result must satisfy, whatever the input. */
function checkInvariants(source: CaptionSource, t: IngestTables) {
  const c = t.counts;
  assert.equal(c.caption_records, source.recordsRead);
  assert.equal(c.caption_records, c.captions_kept + c.captions_rejected, 'caption_records == kept + rejected');
  assert.equal(c.captions_kept, t.captions.length);
  assert.equal(c.images, t.images.length);
  assert.equal(c.images_train + c.images_dev + c.images_test + c.images_none, c.images);
  assert.equal(c.captions_rejected + c.split_records_rejected + c.images_without_caption, t.rejects.length);
  const reasons = Object.entries(c).filter(([k]) => k.startsWith('rejected: '));
  assert.equal(reasons.reduce((a, [, n]) => a + n, 0), t.rejects.length);
  // by image: every caption shares its image's split, and every kept caption's image is in the images table
  const splitOf = new Map(t.images.map((i) => [i.image_id, i.split]));
  for (const cap of t.captions) assert.equal(cap.split, splitOf.get(cap.image_id), `${cap.image_id}#${cap.caption_index}`);
  assert.deepEqual([...splitOf.keys()], [...new Set(t.captions.map((x) => x.image_id))]);
}

type Reject = Pick<RejectRow, 'source' | 'record' | 'reason'> & Partial<RejectRow>;
const cases: {
  name: string;
  source: () => CaptionSource;
  probes: Record<string, ImageProbe>;
  unreferenced?: string[];
  rejects: Reject[];            // compared on the keys given
  captions: string[];           // `${image_id}#${index}:${split}`
  images?: [string, Split][];
  counts?: Record<string, number>;
}[] = [
  {
    name: 'every caption of a healthy image is kept, with its split; sorted by image then caption index',
    source: () => flickr(['b.jpg#1\tb one', 'b.jpg#0\tb zero', 'a.jpg#0\ta zero', 'c.jpg#0\tc zero'], { train: ['a.jpg'], dev: ['c.jpg'], test: ['b.jpg'] }),
    probes: { 'a.jpg': ok(1), 'b.jpg': ok(2), 'c.jpg': ok(3) },
    rejects: [],
    captions: ['a.jpg#0:train', 'b.jpg#0:test', 'b.jpg#1:test', 'c.jpg#0:dev'],
    images: [['a.jpg', 'train'], ['b.jpg', 'test'], ['c.jpg', 'dev']],
    counts: { caption_records: 4, captions_kept: 4, captions_rejected: 0, split_records: 3, images: 3, images_train: 1, images_dev: 1, images_test: 1, images_none: 0 },
  },
  {
    name: "images missing from the given split lists get split 'none' (no seeded fallback per image)",
    source: () => flickr(['a.jpg#0\ta', 'b.jpg#0\tb', 'c.jpg#0\tc'], { train: ['a.jpg'] }),
    probes: { 'a.jpg': ok(1), 'b.jpg': ok(2), 'c.jpg': ok(3) },
    rejects: [],
    captions: ['a.jpg#0:train', 'b.jpg#0:none', 'c.jpg#0:none'],
    counts: { images_train: 1, images_dev: 0, images_test: 0, images_none: 2 },
  },
  {
    name: 'caption of an image with no probe -> "image file missing" with its record number',
    source: () => flickr(['a.jpg#0\tkept', '', 'gone.jpg#0\tlost one', 'gone.jpg#1\tlost two']),
    probes: { 'a.jpg': ok(1) },
    rejects: [
      { source: SRC, record: 3, raw: 'gone.jpg#0\tlost one', reason: 'image file missing' },
      { source: SRC, record: 4, raw: 'gone.jpg#1\tlost two', reason: 'image file missing' },
    ],
    captions: ['a.jpg#0:train'],
    counts: { 'rejected: image file missing': 2, captions_rejected: 2, caption_records: 3 },
  },
  {
    name: 'a failed probe rejects all captions of its image with the probe reason and detail',
    source: () => flickr(['bad.jpg#0\tx', 'empty.jpg#0\ty', 'fine.jpg#0\tz', 'bad.jpg#1\tw', 'odd.jpg#0\tv']),
    probes: {
      'bad.jpg': { ok: false, reason: 'corrupt or truncated image', detail: 'VipsJpeg: premature end of JPEG image' },
      'empty.jpg': { ok: false, reason: 'zero-byte image file' },
      'odd.jpg': { ok: false, reason: 'unsupported image format', detail: 'Input buffer contains unsupported image format' },
      'fine.jpg': ok(1),
    },
    rejects: [
      { source: SRC, record: 1, reason: 'corrupt or truncated image', detail: 'VipsJpeg: premature end of JPEG image' },
      { source: SRC, record: 2, reason: 'zero-byte image file', detail: undefined },
      { source: SRC, record: 4, reason: 'corrupt or truncated image', detail: 'VipsJpeg: premature end of JPEG image' },
      { source: SRC, record: 5, reason: 'unsupported image format', detail: 'Input buffer contains unsupported image format' },
    ],
    captions: ['fine.jpg#0:train'],
    counts: { 'rejected: corrupt or truncated image': 2, 'rejected: zero-byte image file': 1, 'rejected: unsupported image format': 1 },
  },
  {
    name: 'an image path that escapes the data directory is rejected (never probed)',
    source: () => flickr(['../x.jpg#0\tup', '/etc/passwd#0\tabs', 'a.jpg#0\tok', 'sub/../../y.jpg#0\tsneaky']),
    probes: { 'a.jpg': ok(1) },
    rejects: [
      { source: SRC, record: 1, raw: '../x.jpg#0\tup', reason: 'image path escapes the data directory' },
      { source: SRC, record: 2, raw: '/etc/passwd#0\tabs', reason: 'image path escapes the data directory' },
      { source: SRC, record: 4, raw: 'sub/../../y.jpg#0\tsneaky', reason: 'image path escapes the data directory' },
    ],
    captions: ['a.jpg#0:train'],
    counts: { 'rejected: image path escapes the data directory': 3 },
  },
  {
    name: 'unreferenced image files -> "image with no caption", record 0, source = the file; not a caption reject',
    source: () => flickr(['a.jpg#0\tx']),
    probes: { 'a.jpg': ok(1) },
    unreferenced: [`${DIR}/extra.jpg`, `${DIR}/z.png`],
    rejects: [
      { source: `${DIR}/extra.jpg`, record: 0, raw: `${DIR}/extra.jpg`, reason: 'image with no caption' },
      { source: `${DIR}/z.png`, record: 0, raw: `${DIR}/z.png`, reason: 'image with no caption' },
    ],
    captions: ['a.jpg#0:train'],
    counts: { captions_rejected: 0, images_without_caption: 2, 'rejected: image with no caption': 2 },
  },
  {
    name: 'listed images without any parsed caption -> "image with no caption" at their listing record',
    source: () => listed([['a.jpg', 0, 'a'], ['b.jpg', 0, 'b']], ['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg'], { 'a.jpg': 'train', 'b.jpg': 'test', 'c.jpg': 'dev', 'd.jpg': 'dev' }),
    probes: { 'a.jpg': ok(1), 'b.jpg': ok(2) },
    rejects: [
      { source: 'c.json#images', record: 3, raw: `${DIR}/c.jpg`, reason: 'image with no caption' },
      { source: 'c.json#images', record: 4, raw: `${DIR}/d.jpg`, reason: 'image with no caption' },
    ],
    captions: ['a.jpg#0:train', 'b.jpg#0:test'],
    images: [['a.jpg', 'train'], ['b.jpg', 'test']], // c and d are in the split map but have no caption: not images
    counts: { images_listed: 4, images_without_caption: 2, images_dev: 0 },
  },
  {
    name: 'a listed image whose captions were all rejected for a missing file is not also "with no caption"',
    source: () => listed([['a.jpg', 0, 'a'], ['gone.jpg', 0, 'g']], ['a.jpg', 'gone.jpg'], { 'a.jpg': 'train', 'gone.jpg': 'train' }),
    probes: { 'a.jpg': ok(1) },
    rejects: [{ source: 'c.json#annotations', record: 2, reason: 'image file missing' }],
    captions: ['a.jpg#0:train'],
    counts: { images_without_caption: 0 },
  },
  {
    name: 'split-list rejects are reported and counted, not as caption rejects',
    source: () => flickr(['a.jpg#0\ta', 'b.jpg#0\tb'], { train: ['a.jpg', 'ghost.jpg'], test: ['a.jpg', 'b.jpg'] }),
    probes: { 'a.jpg': ok(1), 'b.jpg': ok(2) },
    rejects: [
      { source: 'Flickr8k_text/Flickr_8k.trainImages.txt', record: 2, raw: 'ghost.jpg', reason: 'split list names an unknown image' },
      { source: 'Flickr8k_text/Flickr_8k.testImages.txt', record: 1, raw: 'a.jpg', reason: "image already in split 'train'" },
    ],
    captions: ['a.jpg#0:train', 'b.jpg#0:test'],
    counts: { split_records: 4, split_records_rejected: 2, captions_rejected: 0 },
  },
  {
    name: 'every kind of problem at once: counts add up, rejects in order (parse, image, split, uncaptioned)',
    source: () => flickr(
      ['a.jpg#0\ta0', 'a.jpg#1\ta1', 'no tab line', 'b.jpg#0\tb0', 'a.jpg#1\tdup', '', 'c.jpg#0\tc0', 'd.jpg#0\t',
        'e.jpg#0\te0', 'f.jpg\tno index', 'b.jpg#1\tb1', 'g.jpg#0\tg0', '../h.jpg#0\th0'],
      { train: ['a.jpg', 'c.jpg'], dev: ['b.jpg', 'nobody.jpg'], test: ['e.jpg', 'g.jpg'] },
    ),
    probes: { 'a.jpg': ok(1), 'b.jpg': ok(2), 'c.jpg': { ok: false, reason: 'zero-byte image file' }, 'g.jpg': ok(4) },
    unreferenced: [`${DIR}/orphan.jpg`],
    rejects: [
      { source: SRC, record: 3, reason: 'line without tab' },
      { source: SRC, record: 5, reason: 'duplicate caption id' },
      { source: SRC, record: 8, reason: 'empty caption' },
      { source: SRC, record: 10, reason: 'caption id without #n' },
      { source: SRC, record: 7, reason: 'zero-byte image file' },
      { source: SRC, record: 9, reason: 'image file missing' },
      { source: SRC, record: 13, reason: 'image path escapes the data directory' },
      { source: 'Flickr8k_text/Flickr_8k.devImages.txt', record: 2, reason: 'split list names an unknown image' },
      { source: `${DIR}/orphan.jpg`, record: 0, reason: 'image with no caption' },
    ],
    captions: ['a.jpg#0:train', 'a.jpg#1:train', 'b.jpg#0:dev', 'b.jpg#1:dev', 'g.jpg#0:test'],
    images: [['a.jpg', 'train'], ['b.jpg', 'dev'], ['g.jpg', 'test']],
    counts: { caption_records: 12, captions_kept: 5, captions_rejected: 7, split_records: 6, split_records_rejected: 1, images_without_caption: 1, images: 3 },
  },
];

for (const c of cases) {
  test(`assembleTables: ${c.name}`, () => {
    const source = c.source();
    const t = run(source, c.probes, c.unreferenced);
    checkInvariants(source, t);
    assert.deepEqual(t.rejects.map((r, i) => Object.fromEntries(Object.keys(c.rejects[i] ?? r).map((k) => [k, r[k as keyof RejectRow]]))), c.rejects);
    // seeded split when the source gives none: compute the expected one independently
    const kept = new Set(t.captions.map((x) => x.image_id));
    const seeded = source.splitOf ? undefined : seededSplit(kept, FR, 3);
    assert.deepEqual(t.captions.map((x) => `${x.image_id}#${x.caption_index}:${x.split}`),
      c.captions.map((s) => (seeded ? s.replace(/:\w+$/, `:${seeded.get(s.split('#')[0])}`) : s)));
    if (c.images) assert.deepEqual(t.images.map((i) => [i.image_id, i.split]), c.images);
    for (const [k, v] of Object.entries(c.counts ?? {})) assert.equal(t.counts[k], v, k);
  });
}

test('assembleTables: image rows carry the probe facts (incl. orientation) and the path', () => {
  const t = run(flickr(['a.jpg#0\ta', 'b.jpg#0\tb'], { train: ['a.jpg', 'b.jpg'] }), { 'a.jpg': ok(1), 'b.jpg': ok(2, 6) });
  assert.deepEqual(t.images, [
    { image_id: 'a.jpg', path: `${DIR}/a.jpg`, split: 'train', sha256: 'sha1', width: 10, height: 5, format: 'jpeg', bytes: 100, orientation: 1 },
    { image_id: 'b.jpg', path: `${DIR}/b.jpg`, split: 'train', sha256: 'sha2', width: 20, height: 10, format: 'jpeg', bytes: 200, orientation: 6 },
  ]);
  assert.deepEqual(t.captions[0], { image_id: 'a.jpg', caption_index: 0, caption: 'a', split: 'train' });
});

test('assembleTables: without splits from the source, a seeded split by image over the kept images', () => {
  const lines = Array.from({ length: 40 }, (_, i) => [0, 1, 2].map((k) => `img${String(i).padStart(2, '0')}.jpg#${k}\tcaption ${k}`)).flat();
  const probes = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`img${String(i).padStart(2, '0')}.jpg`, ok(i + 1)]));
  delete probes['img07.jpg']; // a missing image takes no place in the split
  const source = flickr(lines);
  const a = run(source, probes, [], 17);
  checkInvariants(source, a);
  assert.deepEqual([a.counts.images, a.counts.images_train, a.counts.images_dev, a.counts.images_test], [39, 31, 4, 4]);
  const expected = seededSplit(a.images.map((i) => i.image_id), FR, 17);
  assert.deepEqual(a.images.map((i) => i.split), a.images.map((i) => expected.get(i.image_id)));
  assert.deepEqual(run(source, probes, [], 17), a); // same seed, same tables
  const b = run(source, probes, [], 18);
  assert.notDeepEqual(b.images.map((i) => i.split), a.images.map((i) => i.split));
});

test('assembleTables: output order does not depend on input line order (numeric caption index order)', () => {
  const lines = ['b.jpg#1\tb1', 'a.jpg#2\ta2', 'b.jpg#0\tb0', 'a.jpg#10\ta10', 'a.jpg#0\ta0'];
  const probes = { 'a.jpg': ok(1), 'b.jpg': ok(2) };
  const fwd = run(flickr(lines), probes);
  const rev = run(flickr([...lines].reverse()), probes);
  assert.deepEqual(fwd.captions, rev.captions);
  assert.deepEqual(fwd.images, rev.images);
  assert.deepEqual(fwd.captions.map((c) => c.caption_index), [0, 2, 10, 0, 1]);
});
