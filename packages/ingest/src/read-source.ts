/**
 * Finding and reading a data set's caption files as they come out of their archives. The format is
 * detected from the files present (or forced with `ingest.format`); the parsing itself is pure (formats/).
 */
import { existsSync, readdirSync } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError, outsideDetail, resolveUnder } from '@caption/core';
import { cocoSource } from './formats/coco.ts';
import { flickrSource } from './formats/flickr.ts';
import { kaggleCsvSource } from './formats/kaggle-csv.ts';
import { karpathySource } from './formats/karpathy.ts';
import { DEFAULT_SPLIT_MAP, type IngestParams } from './params.ts';
import type { CaptionSource, Split } from './rows.ts';

type Format = Exclude<IngestParams['format'], 'auto'>;

const FILES = {
  flickr8kTokens: ['Flickr8k_text/Flickr8k.token.txt', 'Flickr8k.token.txt'],
  flickr8kLemmas: ['Flickr8k_text/Flickr8k.lemma.token.txt', 'Flickr8k.lemma.token.txt'],
  flickr8kImages: ['Flicker8k_Dataset', 'Flickr8k_Dataset', 'Images'],
  flickr30kTokens: ['results_20130124.token', 'flickr30k/results_20130124.token'],
  flickr30kImages: ['flickr30k-images', 'flickr30k_images', 'Images'],
  kaggleCsv: ['captions.txt'],
  kaggleImages: ['Images', 'images'],
};
const COCO_JSON = /^captions_(.+)\.json$/;
const KARPATHY_JSON = /^dataset_.+\.json$/;

const LOOKED_FOR =
  'dataset_*.json (Karpathy), captions_*.json or annotations/captions_*.json (COCO), ' +
  `${FILES.flickr8kTokens.join(' or ')} (Flickr8k), ${FILES.flickr30kTokens[0]} (Flickr30k), captions.txt (Kaggle CSV)`;

export async function readCaptionSource(root: string, params: IngestParams): Promise<CaptionSource> {
  if (!existsSync(root)) throw new PipelineError('input', `data set directory not found: ${root}`);
  const format = params.format === 'auto' ? detectFormat(root) : params.format;
  if (!format) throw new PipelineError('input', `no caption files found in ${root}: looked for ${LOOKED_FOR}`);
  const first = (candidates: string[]) => candidates.find((c) => existsSync(path.join(root, c)));
  const need = (candidates: string[], what: string) => {
    const found = first(candidates);
    if (!found) throw new PipelineError('input', `${format}: no ${what} in ${root}: looked for ${candidates.join(', ')}`);
    return found;
  };
  const rootReal = await realpath(root);
  const bytes = async (rel: string) => {
    const where = await resolveUnder(rootReal, path.join(root, rel));
    if (where.state === 'outside') throw new PipelineError('input', `${format}: ${rel} ${outsideDetail(where.real, rootReal)}: copy it into the data directory`);
    return readFile(path.join(root, rel));
  };
  const imageDir = (candidates: string[]) => params.imageDir || first(candidates) || candidates[0];
  const splitMap: Record<string, Split> = { ...DEFAULT_SPLIT_MAP, ...params.splitMap };

  switch (format) {
    case 'flickr8k': {
      const tokens = need(params.lemmas ? FILES.flickr8kLemmas : FILES.flickr8kTokens, 'token file');
      const textDir = path.posix.dirname(tokens) === '.' ? '' : `${path.posix.dirname(tokens)}/`;
      const lists = [];
      for (const split of ['train', 'dev', 'test'] as const) {
        const rel = `${textDir}Flickr_8k.${split}Images.txt`;
        if (existsSync(path.join(root, rel))) lists.push({ split, source: rel, bytes: await bytes(rel) });
      }
      return flickrSource('flickr8k', { source: tokens, bytes: await bytes(tokens) }, lists, imageDir(FILES.flickr8kImages));
    }
    case 'flickr30k': {
      const tokens = need(FILES.flickr30kTokens, 'token file');
      return flickrSource('flickr30k', { source: tokens, bytes: await bytes(tokens) }, [], imageDir(FILES.flickr30kImages));
    }
    case 'kaggle-csv': {
      const csv = need(FILES.kaggleCsv, 'captions.txt');
      return kaggleCsvSource(await bytes(csv), csv, imageDir(FILES.kaggleImages));
    }
    case 'coco': {
      const files = jsonFiles(root, ['', 'annotations'], COCO_JSON);
      if (!files.length) throw new PipelineError('input', `coco: no captions_*.json in ${root} or ${root}/annotations`);
      return cocoSource(await Promise.all(files.map(async (rel) => {
        const splitName = COCO_JSON.exec(path.posix.basename(rel))![1];
        return { source: rel, bytes: await bytes(rel), splitName, imageDir: imageDir([splitName, `images/${splitName}`]) };
      })), splitMap);
    }
    case 'karpathy': {
      const files = jsonFiles(root, [''], KARPATHY_JSON);
      if (!files.length) throw new PipelineError('input', `karpathy: no dataset_*.json in ${root}`);
      if (files.length > 1) throw new PipelineError('input', `karpathy: several split files in ${root} (${files.join(', ')}): keep one`);
      // COCO-style entries carry `filepath` (val2014/...) below the root or images/; Flickr ones only a name.
      const flickrDir = imageDir([...FILES.flickr8kImages, ...FILES.flickr30kImages]);
      const imageRoot = (filepath?: string) =>
        params.imageDir || (filepath ? (first([`images/${filepath}`]) ? 'images' : '') : flickrDir);
      return karpathySource(files[0], await bytes(files[0]), imageRoot, splitMap);
    }
  }
}

export function detectFormat(root: string): Format | undefined {
  const has = (candidates: string[]) => candidates.some((c) => existsSync(path.join(root, c)));
  if (jsonFiles(root, [''], KARPATHY_JSON).length) return 'karpathy';
  if (jsonFiles(root, ['', 'annotations'], COCO_JSON).length) return 'coco';
  if (has(FILES.flickr8kTokens)) return 'flickr8k';
  if (has(FILES.flickr30kTokens)) return 'flickr30k';
  if (has(FILES.kaggleCsv)) return 'kaggle-csv';
  return undefined;
}

function jsonFiles(root: string, dirs: string[], pattern: RegExp): string[] {
  return dirs.flatMap((dir) => {
    const abs = path.join(root, dir);
    if (!existsSync(abs)) return [];
    return readdirSync(abs).filter((f) => pattern.test(f)).sort().map((f) => (dir ? `${dir}/${f}` : f));
  });
}
