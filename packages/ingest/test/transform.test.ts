import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSplitLists, parseTokenFile } from '../src/flickr8k.ts';
import type { ImageProbe } from '../src/rows.ts';
import { assembleTables, type IngestInputs } from '../src/transform.ts';

const SRC = 'Flickr8k_text/Flickr8k.token.txt';
const ok = (n: number): ImageProbe => ({ ok: true, sha256: `sha${n}`, width: 10 * n, height: 5 * n, format: 'jpeg', bytes: 100 * n });

function inputs(tokenText: string, probes: Record<string, ImageProbe>, unreferenced: string[] = [], splits = {}): IngestInputs {
  return {
    parsed: parseTokenFile(tokenText, SRC),
    splitOf: parseSplitLists(splits),
    imageDir: 'Images',
    probes: new Map(Object.entries(probes)),
    unreferenced,
  };
}

test('assembleTables: every caption of a healthy image is kept, with its split; images carry probe facts', () => {
  const t = assembleTables(inputs(
    'b.jpg#1\tb one\nb.jpg#0\tb zero\na.jpg#0\ta zero\nc.jpg#0\tc zero\n',
    { 'a.jpg': ok(1), 'b.jpg': ok(2), 'c.jpg': ok(3) },
    [],
    { train: 'a.jpg', test: 'b.jpg' },
  ));
  assert.deepEqual(t.rejects, []);
  // sorted by image id, then caption index
  assert.deepEqual(t.captions, [
    { image_id: 'a.jpg', caption_index: 0, caption: 'a zero', split: 'train' },
    { image_id: 'b.jpg', caption_index: 0, caption: 'b zero', split: 'test' },
    { image_id: 'b.jpg', caption_index: 1, caption: 'b one', split: 'test' },
    { image_id: 'c.jpg', caption_index: 0, caption: 'c zero', split: 'none' },
  ]);
  assert.deepEqual(t.images, [
    { image_id: 'a.jpg', path: 'Images/a.jpg', split: 'train', sha256: 'sha1', width: 10, height: 5, format: 'jpeg', bytes: 100 },
    { image_id: 'b.jpg', path: 'Images/b.jpg', split: 'test', sha256: 'sha2', width: 20, height: 10, format: 'jpeg', bytes: 200 },
    { image_id: 'c.jpg', path: 'Images/c.jpg', split: 'none', sha256: 'sha3', width: 30, height: 15, format: 'jpeg', bytes: 300 },
  ]);
  assert.deepEqual(t.counts, {
    records_read: 4, captions_kept: 4, captions_rejected: 0, images: 3,
    images_train: 1, images_dev: 0, images_test: 1, images_none: 1,
  });
});

test('assembleTables: caption of an image with no probe -> "image file missing" with its record number', () => {
  const t = assembleTables(inputs('a.jpg#0\tkept\n\ngone.jpg#0\tlost one\ngone.jpg#1\tlost two\n', { 'a.jpg': ok(1) }));
  assert.deepEqual(t.rejects, [
    { source: SRC, record: 3, raw: 'gone.jpg#0\tlost one', reason: 'image file missing' },
    { source: SRC, record: 4, raw: 'gone.jpg#1\tlost two', reason: 'image file missing' },
  ]);
  assert.deepEqual(t.captions.map((c) => c.image_id), ['a.jpg']);
  assert.deepEqual(t.images.map((i) => i.image_id), ['a.jpg']);
  assert.equal(t.counts['rejected: image file missing'], 2);
});

test('assembleTables: a failed probe rejects the captions with the probe reason; image is not listed', () => {
  const t = assembleTables(inputs('bad.jpg#0\tx\nempty.jpg#0\ty\nfine.jpg#0\tz\n', {
    'bad.jpg': { ok: false, reason: 'corrupt or unsupported image: premature end' },
    'empty.jpg': { ok: false, reason: 'zero-byte image file' },
    'fine.jpg': ok(1),
  }));
  assert.deepEqual(t.rejects.map((r) => [r.record, r.reason]), [
    [1, 'corrupt or unsupported image: premature end'],
    [2, 'zero-byte image file'],
  ]);
  assert.deepEqual(t.images.map((i) => i.image_id), ['fine.jpg']);
  assert.equal(t.counts['rejected: zero-byte image file'], 1);
  assert.equal(t.counts['rejected: corrupt or unsupported image: premature end'], 1);
});

test('assembleTables: unreferenced image files -> "image with no caption", record 0, source = the file', () => {
  const t = assembleTables(inputs('a.jpg#0\tx\n', { 'a.jpg': ok(1) }, ['extra.jpg', 'z.png']));
  assert.deepEqual(t.rejects, [
    { source: 'Images/extra.jpg', record: 0, raw: 'extra.jpg', reason: 'image with no caption' },
    { source: 'Images/z.png', record: 0, raw: 'z.png', reason: 'image with no caption' },
  ]);
  // not a caption record: does not count as a rejected caption
  assert.equal(t.counts.captions_rejected, 0);
  assert.equal(t.counts['rejected: image with no caption'], 2);
});

test('assembleTables: counts add up with every kind of problem at once', () => {
  const text = [
    'a.jpg#0\ta0', 'a.jpg#1\ta1', 'no tab line', 'b.jpg#0\tb0', 'a.jpg#1\tdup', '', 'c.jpg#0\tc0', 'd.jpg#0\t',
    'e.jpg#0\te0', 'f.jpg\tno index', 'b.jpg#1\tb1', 'g.jpg#0\tg0',
  ].join('\n');
  const t = assembleTables(inputs(
    text,
    { 'a.jpg': ok(1), 'b.jpg': ok(2), 'c.jpg': { ok: false, reason: 'zero-byte image file' }, 'g.jpg': ok(4) },
    ['orphan.jpg'],
    { train: 'a.jpg\nc.jpg\n', dev: 'b.jpg', test: 'e.jpg\ng.jpg' },
  ));
  // 11 non-blank lines: kept a0 a1 b0 b1 g0; rejected no-tab, dup, c (probe), d (empty), e (missing), f (#n)
  assert.equal(t.counts.records_read, 11);
  assert.equal(t.counts.captions_kept, 5);
  assert.equal(t.counts.captions_rejected, 6);
  assert.equal(t.counts.records_read, t.counts.captions_kept + t.counts.captions_rejected);
  assert.equal(t.rejects.length, 7); // + the orphan image
  assert.deepEqual(t.rejects.map((r) => r.record), [3, 5, 8, 10, 7, 9, 0]);
  assert.deepEqual(
    [t.counts.images, t.counts.images_train, t.counts.images_dev, t.counts.images_test, t.counts.images_none],
    [3, 1, 1, 1, 0],
  );
  assert.deepEqual(t.images.map((i) => [i.image_id, i.split]), [['a.jpg', 'train'], ['b.jpg', 'dev'], ['g.jpg', 'test']]);
  assert.deepEqual(t.captions.map((c) => `${c.image_id}#${c.caption_index}`), ['a.jpg#0', 'a.jpg#1', 'b.jpg#0', 'b.jpg#1', 'g.jpg#0']);
  const reasonTotal = Object.entries(t.counts).filter(([k]) => k.startsWith('rejected: ')).reduce((a, [, n]) => a + n, 0);
  assert.equal(reasonTotal, t.rejects.length);
});

test('assembleTables: output order does not depend on input line order', () => {
  const lines = ['b.jpg#1\tb1', 'a.jpg#2\ta2', 'b.jpg#0\tb0', 'a.jpg#10\ta10', 'a.jpg#0\ta0'];
  const probes = { 'a.jpg': ok(1), 'b.jpg': ok(2) };
  const fwd = assembleTables(inputs(lines.join('\n'), probes));
  const rev = assembleTables(inputs([...lines].reverse().join('\n'), probes));
  assert.deepEqual(fwd.captions, rev.captions);
  assert.deepEqual(fwd.images, rev.images);
  // numeric, not lexicographic, caption index order
  assert.deepEqual(fwd.captions.map((c) => c.caption_index), [0, 2, 10, 0, 1]);
});
