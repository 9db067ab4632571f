/**
 * `pnpm bench:verify [features artifact dir] [--only verified|unverified|all-files]`: what verifying a features
 * artifact costs the stages that read it. Loads every shard into a FeatureStore three ways, alternating, and
 * prints the medians (and the process's peak RSS: run one way with --only to see its own):
 *   verified    catalog.features.shards.loadStore: each shard's size and sha256 checked before it is decoded
 *               (what train and evaluate do)
 *   unverified  the same reads and decodes without any hashing (the floor)
 *   all-files   artifact.verify(): every listed file, large ones read whole and hashed on worker threads (what
 *               `caption status --verify` does)
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { FeatureStore, artifactDir, catalog, decodeFeatureShard, openStage } from '../packages/core/src/index.ts';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { repeats: { type: 'string', default: '3' }, only: { type: 'string' } } });
const dir = positionals[0] ?? artifactDir('features');
const artifact = await openStage('features', dir);
const shards = Object.keys(artifact.manifest.files).filter((f) => f.endsWith('.arrow'));
const bytes = shards.reduce((a, f) => a + artifact.manifest.files[f].bytes, 0);
console.log(`${dir}: ${shards.length} shards, ${(bytes / 2 ** 30).toFixed(2)} GiB, ${artifact.manifest.rows.images} images [${artifact.manifest.extra?.shape}]`);

const ways: Record<string, () => Promise<unknown>> = {
  verified: () => catalog.features.shards.loadStore(artifact),
  unverified: async () => FeatureStore.fromShards(await Promise.all(shards.map(async (f) => decodeFeatureShard(await readFile(artifact.file(f)))))),
  'all-files': async () => {
    const problems = await artifact.verify();
    if (problems.length) throw new Error(`corrupt: ${problems.map((p) => p.file).join(', ')}`);
  },
};
const times: Record<string, number[]> = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
for (let r = 0; r < Number(values.repeats); r++) {
  for (const [name, run] of Object.entries(ways).filter(([n]) => !values.only || n === values.only)) {
    const started = performance.now();
    await run();
    times[name].push((performance.now() - started) / 1000);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [name, xs] of Object.entries(times).filter(([, xs]) => xs.length)) {
  console.log(`${name.padEnd(10)} ${median(xs).toFixed(2)} s  (${(bytes / 2 ** 30 / median(xs)).toFixed(2)} GiB/s; runs ${xs.map((x) => x.toFixed(2)).join(', ')})`);
}
if (!values.only) console.log(`verification adds ${(median(times.verified) - median(times.unverified)).toFixed(2)} s to loading the features`);
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
