/** Pure tokenize logic: caption rows -> vocabulary (train split only) + token ids for every caption. */
import type { TokenizeParams } from './params.ts';
import { buildVocabulary, encodeWords, lengthPercentile, standardize, tokenIndex } from './vocabulary.ts';
import { type Vocabulary } from '@caption/core';

export interface CaptionInput {
  image_id: string;
  caption_index: number;
  caption: string;
  split: string;
}

export interface TokenRow {
  image_id: string;
  caption_index: number;
  split: string;
  token_ids: Int32Array;   // [<start>, ..., <end>], length <= maxLength
}

export interface TokenizeResult {
  vocabulary: Vocabulary;
  tokens: TokenRow[];
  counts: Record<string, number>;
}

export function tokenizeCaptions(captions: CaptionInput[], params: TokenizeParams): TokenizeResult {
  const words = captions.map((c) => standardize(c.caption, params));
  const train = words.filter((_, i) => captions[i].split === 'train');
  const vocabulary = buildVocabulary(train, params.vocabSize, params.minCount);
  const index = tokenIndex(vocabulary);
  const maxLength = resolveMaxLength(params.maxLength, train);
  let truncated = 0;
  let unknown = 0;
  const tokens = captions.map((c, i) => {
    const enc = encodeWords(words[i], index, maxLength);
    if (enc.truncated) truncated++;
    for (const id of enc.ids) if (id === 1) unknown++;
    return { image_id: c.image_id, caption_index: c.caption_index, split: c.split, token_ids: enc.ids };
  });
  return {
    vocabulary,
    tokens,
    counts: { captions: tokens.length, vocabulary: vocabulary.tokens.length, max_length: maxLength, truncated, unknown_tokens: unknown },
  };
}

/** An integer is used as is; 'pNN' = NNth percentile of train caption lengths, plus <start> and <end>. */
export function resolveMaxLength(spec: number | string, train: string[][]): number {
  if (typeof spec === 'number') return spec;
  return Math.max(3, lengthPercentile(train, Number(spec.slice(1))) + 2);
}
