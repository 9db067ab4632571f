/** tokenize: ingest's captions table -> `vocabulary.parquet` + `tokens.parquet` (token ids as list<int32>). */
import {
  ArtifactWriter, artifactDir, createLogger, encodeParquet, int32, int64, listInt32, makeTable, openArtifact,
  ParquetDataset, tableRows, utf8, type Manifest, type StageParamsFile,
} from '@caption/core';
import type { TokenizeParams } from './params.ts';
import { tokenizeCaptions, type CaptionInput } from './transform.ts';

const log = createLogger('tokenize');
export const TOKENIZE_SCHEMA_VERSION = 1;

export async function runTokenize(
  p: StageParamsFile<TokenizeParams>,
  ingestDir = artifactDir('ingest'),
  outDir = artifactDir('tokenize'),
): Promise<Manifest> {
  const ingest = await openArtifact(ingestDir, 'captions');
  const captions = tableRows<CaptionInput>(await new ParquetDataset(ingest.file('captions.parquet')).load());

  const { vocabulary, tokens, counts } = tokenizeCaptions(captions, p.params);
  log.info(`vocabulary ${vocabulary.tokens.length} tokens; ${counts.truncated} captions truncated`);

  const writer = await ArtifactWriter.open(outDir);
  const ids = vocabulary.tokens.map((_, i) => i);
  await writer.write('vocabulary.parquet', encodeParquet(makeTable({
    id: int32(ids), token: utf8(vocabulary.tokens), count: int64(vocabulary.counts),
  })));
  await writer.write('tokens.parquet', encodeParquet(makeTable({
    image_id: utf8(tokens.map((t) => t.image_id)),
    caption_index: int32(tokens.map((t) => t.caption_index)),
    split: utf8(tokens.map((t) => t.split)),
    token_ids: listInt32(tokens.map((t) => t.token_ids)),
  })));
  return writer.commit({
    kind: 'tokens',
    schemaVersion: TOKENIZE_SCHEMA_VERSION,
    stage: 'tokenize',
    createdBy: '@caption/tokenize@0.1.0',
    params: p.params,
    upstream: { ingest: ingest.manifestHash },
    rows: counts,
  });
}
