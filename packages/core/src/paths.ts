/**
 * Where things live. Every stage writes `artifacts/<stage>/` under the repository root and reads its
 * resolved params from `.caption/params/<stage>.json` (written by `caption run|resolve`).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { expandEnv } from './config/env.ts';

export const STAGES = ['ingest', 'features', 'tokenize', 'train', 'evaluate'] as const;
export type StageName = (typeof STAGES)[number];

let cachedRoot: string | undefined;

/** The workspace root: nearest ancestor holding pnpm-workspace.yaml (override with CAPTION_ROOT). */
export function repoRoot(from = process.cwd()): string {
  if (process.env.CAPTION_ROOT) return path.resolve(process.env.CAPTION_ROOT);
  if (cachedRoot) return cachedRoot;
  let dir = path.resolve(from);
  while (!existsSync(path.join(dir, 'pnpm-workspace.yaml'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no pnpm-workspace.yaml above ${from}`);
    dir = up;
  }
  return (cachedRoot = dir);
}

export const artifactDir = (stage: StageName, root = repoRoot()) => path.join(root, 'artifacts', stage);
export const paramsFile = (stage: StageName, root = repoRoot()) => path.join(root, '.caption', 'params', `${stage}.json`);

/**
 * Where the ingested images live, from the ingest manifest's `extra.datasetRoot`: `./x` is relative to the
 * ingest artifact (the generated demo data); anything else is a data set path (env vars expanded).
 */
export function resolveDatasetRoot(spec: string, ingestDir: string): string {
  return spec.startsWith('./') ? path.join(ingestDir, spec) : path.resolve(repoRoot(), expandEnv(spec));
}
