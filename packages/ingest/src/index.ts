export { runIngest, INGEST_SCHEMA_VERSION } from './stage.ts';
export { ingestParamsSchema, type IngestParams } from './params.ts';
export { parseTokenFile, parseSplitLists, FLICKR8K_FILES } from './flickr8k.ts';
export { assembleTables } from './transform.ts';
export type { CaptionRow, ImageRow, RejectRow, Split } from './rows.ts';
export { writeDemoDataset, planDemoScenes } from './demo/generate.ts';
