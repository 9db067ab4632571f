import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { detectFormat, readCaptionSource } from '../src/read-source.ts';
import { expectPipelineError, ingestParams, withTmp, writeFiles } from './fixtures.ts';

const layouts: { name: string; files: string[]; expected: string | undefined }[] = [
  { name: 'Flickr8k (official archives)', files: ['Flickr8k_text/Flickr8k.token.txt', 'Flicker8k_Dataset/a.jpg'], expected: 'flickr8k' },
  { name: 'Flickr8k (flat)', files: ['Flickr8k.token.txt'], expected: 'flickr8k' },
  { name: 'Flickr30k', files: ['results_20130124.token', 'flickr30k-images/1.jpg'], expected: 'flickr30k' },
  { name: 'Flickr30k (nested)', files: ['flickr30k/results_20130124.token'], expected: 'flickr30k' },
  { name: 'Kaggle CSV', files: ['captions.txt', 'Images/a.jpg'], expected: 'kaggle-csv' },
  { name: 'COCO (annotations/)', files: ['annotations/captions_val2014.json', 'val2014/a.jpg'], expected: 'coco' },
  { name: 'COCO (root)', files: ['captions_train2017.json'], expected: 'coco' },
  { name: 'Karpathy', files: ['dataset_flickr8k.json', 'Flicker8k_Dataset/a.jpg'], expected: 'karpathy' },
  { name: 'Karpathy wins over the captions it was made from', files: ['dataset_coco.json', 'annotations/captions_val2014.json', 'Flickr8k.token.txt'], expected: 'karpathy' },
  { name: 'COCO wins over Flickr', files: ['annotations/captions_val2014.json', 'Flickr8k.token.txt'], expected: 'coco' },
  { name: 'Flickr8k wins over a Kaggle captions.txt', files: ['Flickr8k.token.txt', 'captions.txt'], expected: 'flickr8k' },
  { name: 'nothing recognisable', files: ['Images/a.jpg', 'readme.txt', 'captions.json', 'annotations/instances_val2014.json'], expected: undefined },
];

test('detectFormat: each layout, and the precedence between them', async () => {
  await withTmp('detect', async (tmp) => {
    for (const [i, l] of layouts.entries()) {
      const root = path.join(tmp, String(i));
      await mkdir(root);
      await writeFiles(root, Object.fromEntries(l.files.map((f) => [f, ''])));
      assert.equal(detectFormat(root), l.expected, l.name);
    }
  });
});

test('readCaptionSource: no caption files -> input error listing what was looked for', async () => {
  await withTmp('nothing', async (tmp) => {
    await writeFiles(tmp, { 'Images/a.jpg': 'x', 'notes.txt': 'hello' });
    const err = await expectPipelineError(() => readCaptionSource(tmp, ingestParams(tmp)), 'input', `no caption files found in ${tmp}`);
    for (const looked of ['dataset_*.json', 'captions_*.json', 'annotations/captions_*.json', 'Flickr8k_text/Flickr8k.token.txt', 'Flickr8k.token.txt', 'results_20130124.token', 'captions.txt']) {
      assert.ok(err.message.includes(looked), `message names ${looked}: ${err.message}`);
    }
  });
});

test('readCaptionSource: a missing directory, or a forced format whose files are absent, is an input error', async () => {
  await withTmp('forced', async (tmp) => {
    await expectPipelineError(() => readCaptionSource(path.join(tmp, 'nope'), ingestParams('x')), 'input', `data set directory not found: ${path.join(tmp, 'nope')}`);
    await writeFiles(tmp, { 'captions.txt': 'image,caption\na.jpg,x\n', 'Flickr8k_text/Flickr8k.token.txt': 'a.jpg#0\tx\n' });
    const p = (over: object) => ingestParams(tmp, over);
    await expectPipelineError(() => readCaptionSource(tmp, p({ format: 'flickr30k' })), 'input', 'flickr30k: no token file', 'results_20130124.token');
    await expectPipelineError(() => readCaptionSource(tmp, p({ format: 'coco' })), 'input', 'coco: no captions_*.json');
    await expectPipelineError(() => readCaptionSource(tmp, p({ format: 'karpathy' })), 'input', 'karpathy: no dataset_*.json');
    await expectPipelineError(() => readCaptionSource(tmp, p({ lemmas: true })), 'input', 'flickr8k: no token file', 'Flickr8k_text/Flickr8k.lemma.token.txt, Flickr8k.lemma.token.txt');
    // forcing a format that is present but not the detected one works
    const kaggle = await readCaptionSource(tmp, p({ format: 'kaggle-csv' }));
    assert.equal(kaggle.format, 'kaggle-csv');
    assert.equal((await readCaptionSource(tmp, p({}))).format, 'flickr8k');
  });
});

test('readCaptionSource: two Karpathy files are ambiguous (input error naming both)', async () => {
  await withTmp('karpathy2', async (tmp) => {
    await writeFiles(tmp, { 'dataset_flickr8k.json': '{"images":[]}', 'dataset_flickr30k.json': '{"images":[]}' });
    await expectPipelineError(() => readCaptionSource(tmp, ingestParams(tmp)), 'input', 'several split files', 'dataset_flickr30k.json, dataset_flickr8k.json');
  });
});

test('readCaptionSource: image folders are detected per format, and imageDir overrides them', async () => {
  await withTmp('imagedir', async (tmp) => {
    await writeFiles(tmp, { 'Flickr8k.token.txt': 'a.jpg#0\tx\n', 'Images/a.jpg': '', 'annotations/captions_val2014.json': '' });
    const f8 = await readCaptionSource(tmp, ingestParams(tmp, { format: 'flickr8k' }));
    assert.deepEqual([f8.imageDirs, f8.captions[0].path], [['Images'], 'Images/a.jpg']); // first existing candidate
    const mine = await readCaptionSource(tmp, ingestParams(tmp, { format: 'flickr8k', imageDir: 'pics/all' }));
    assert.deepEqual([mine.imageDirs, mine.captions[0].path], [['pics/all'], 'pics/all/a.jpg']);
    // none of the candidates exists: the first (official) name is used, so the error says "image file missing"
    const bare = path.join(tmp, 'bare');
    await writeFiles(bare, { 'results_20130124.token': 'b.jpg#0\ty\n' });
    const f30 = await readCaptionSource(bare, ingestParams(bare));
    assert.deepEqual([f30.imageDirs, f30.captions[0].path], [['flickr30k-images'], 'flickr30k-images/b.jpg']);
  });
});
