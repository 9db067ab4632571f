/**
 * One process computing feature rows for the images of an ingested data set, no queue, no store: bench:scale
 * runs one, then two at once, for the ceiling two processes reach on this machine's cores. Prints images/s.
 */
import path from 'node:path';
import { catalog, openStage, resolveDatasetRoot } from '../packages/core/src/index.ts';
import { computeRows, openExtractor } from '../packages/features/src/extraction.ts';
import type { FeaturesParams } from '../packages/features/src/params.ts';

const [ingestDir, paramsJson] = process.argv.slice(2);
const params = JSON.parse(paramsJson) as FeaturesParams;
const ingest = await openStage('ingest', ingestDir);
const root = resolveDatasetRoot(String(ingest.manifest.extra?.datasetRoot), ingest.dir);
const images = (await catalog.ingest.images.load(ingest)).map((i) => ({ image_id: i.image_id, sha256: i.sha256, file: path.join(root, i.path) }));
const x = await openExtractor(params, 1, 1);
await computeRows(images.slice(0, 8), x, params); // warm-up, not timed
const started = performance.now();
await computeRows(images, x, params);
console.log(JSON.stringify({ rate: images.length / ((performance.now() - started) / 1000) }));
process.exit(0);
