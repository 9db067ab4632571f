/** tokenize: ingest's captions table -> `vocabulary.parquet` + `tokens.parquet` (token ids as list<int32>). */
import {
  ArtifactWriter, artifactDir, catalog, createLogger, openStage, vocabularyRows, type Manifest, type StageParamsFile,
} from '@caption/core';
import type { TokenizeParams } from './params.ts';
import { tokenizeCaptions } from './transform.ts';

const log = createLogger('tokenize');
export const TOKENIZE_SCHEMA_VERSION = 1;

export async function runTokenize(
  p: StageParamsFile<TokenizeParams>,
  ingestDir = artifactDir('ingest'),
  outDir = artifactDir('tokenize'),
): Promise<Manifest> {
  const ingest = await openStage('ingest', ingestDir);
  const captions = await catalog.ingest.captions.load(ingest);

  const { vocabulary, tokens, counts } = tokenizeCaptions(captions, p.params);
  log.info(`vocabulary ${vocabulary.tokens.length} tokens; ${counts.truncated} captions truncated`);

  const writer = await ArtifactWriter.open(outDir);
  await catalog.tokenize.vocabulary.save(writer, vocabularyRows(vocabulary));
  await catalog.tokenize.tokens.save(writer, tokens);
  return writer.commit({
    kind: catalog.tokenize.kind,
    schemaVersion: TOKENIZE_SCHEMA_VERSION,
    stage: 'tokenize',
    createdBy: '@caption/tokenize@0.1.0',
    params: p.params,
    upstream: { ingest: ingest.manifestHash },
    rows: counts,
  });
}
