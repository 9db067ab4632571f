/**
 * Param-level differences between two sets of resolved stage params files, named the way a user writes them
 * in the YAML: `train.epochs`, `seed`, `name`, and `ingest.inputs.dataset_sha256` for fingerprints.
 */
import { STAGES, type StageName, type StageParamsFile } from '@caption/core';

export interface ParamChange {
  path: string;
  before: unknown;   // undefined: not set before
  after: unknown;    // undefined: not set now
}

/** The changes in one stage's params file. */
export function stageParamChanges(stage: StageName, before: StageParamsFile<unknown> | undefined, after: StageParamsFile<unknown> | undefined): ParamChange[] {
  const a = flatten(yamlView(stage, before));
  const b = flatten(yamlView(stage, after));
  const out: ParamChange[] = [];
  for (const key of [...new Set([...a.keys(), ...b.keys()])]) {
    if (JSON.stringify(a.get(key)) !== JSON.stringify(b.get(key))) out.push({ path: key, before: a.get(key), after: b.get(key) });
  }
  return out;
}

/** The changes across all stages; `seed` and `name` (in every stage's file) are listed once. */
export function paramChanges(before: Partial<Record<StageName, StageParamsFile<unknown>>>, after: Partial<Record<StageName, StageParamsFile<unknown>>>): ParamChange[] {
  const seen = new Set<string>();
  return STAGES.flatMap((s) => stageParamChanges(s, before[s], after[s])).filter((c) => !seen.has(c.path) && seen.add(c.path));
}

/** Every param of a run as `path -> value` (for listing key params). */
export function flatParams(params: Partial<Record<StageName, StageParamsFile<unknown>>>): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const s of STAGES) for (const [k, v] of flatten(yamlView(s, params[s]))) out.set(k, v);
  return out;
}

/** `train.epochs: 12 -> 8`, `evaluate.beamSize: (default) -> 3` style. */
export const describeChange = (c: ParamChange) => `${c.path}: ${show(c.before)} -> ${show(c.after)}`;

export const show = (v: unknown): string => (v === undefined ? '(unset)' : typeof v === 'string' ? v : JSON.stringify(v));

function yamlView(stage: StageName, file: StageParamsFile<unknown> | undefined): Record<string, unknown> {
  if (!file) return {};
  return { name: file.pipeline, seed: file.seed, [stage]: file.params ?? {}, ...(file.inputs ? { [`${stage}.inputs`]: file.inputs } : {}) };
}

function flatten(value: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out.set(prefix, value);
  }
  return out;
}
