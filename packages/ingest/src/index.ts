export { runIngest, INGEST_SCHEMA_VERSION } from './stage.ts';
export { ingestParamsSchema, type IngestParams } from './params.ts';
export { parseTokenFile, parseSplitLists } from './formats/flickr.ts';
export { readCaptionSource, detectFormat } from './read-source.ts';
export { seededSplit, isContainedPath } from './split.ts';
export { assembleTables } from './transform.ts';
export { probeImages, probeFiles } from './probe.ts';
export type { CaptionRow, ImageRow, RejectRow, Split, CaptionRecord, CaptionSource, ImageProbe } from './rows.ts';
export { writeDemoDataset, planDemoScenes } from './demo/generate.ts';
