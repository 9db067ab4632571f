/**
 * A separate process asking for one weights file (fetch.test.ts, the cross-process case): it waits at the
 * test server's barrier (so that all children ask at once), then fetches and prints its result as JSON.
 * Args: <spec JSON> <cache dir> <mirror base URL> <barrier URL>.
 */
import http from 'node:http';
import { fetchWeightsFile, type WeightsFileSpec } from '../../src/weights/fetch.ts';

const [specJson, cacheDir, mirror, barrier] = process.argv.slice(2);
await new Promise<void>((resolve, reject) => {
  http.get(barrier, { agent: false }, (res) => res.resume().on('end', resolve).on('error', reject)).on('error', reject);
});
const result = await fetchWeightsFile(JSON.parse(specJson) as WeightsFileSpec, { cacheDir, mirror, env: {} });
process.stdout.write(`${JSON.stringify({ pid: process.pid, ...result })}\n`);
