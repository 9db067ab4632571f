/**
 * A pipeline YAML -> one resolved params file per stage. The schema is assembled from each stage's own
 * params schema, so a stage's defaults live next to its code.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  PipelineError, STAGES, canonicalJson, expandEnv, fingerprintDirectory, paramsFile, parseYaml, repoRoot, sha256File, validateYaml,
  type StageName, type StageParamsFile,
} from '@caption/core';
import { ingestParamsSchema, type IngestParams } from '@caption/ingest/params';
import { featuresParamsSchema } from '@caption/features/params';
import { tokenizeParamsSchema } from '@caption/tokenize/params';
import { trainParamsSchema } from '@caption/train/params';
import { evaluateParamsSchema } from '@caption/evaluate/params';
import { NAMED_WEIGHTS } from '@caption/backbones/registry';
import { applyImportedCheckpoint } from './imported-checkpoint.ts';
import { applyVariant, expandMatrix, matrixSchema, paramPaths, type Matrix, type Variant } from './matrix.ts';

const topLevelSchema = {
  name: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$' },  // experiment name, used in reports
  description: { type: 'string' },
  seed: { type: 'integer', minimum: 0, default: 42 },       // one seed; stages derive theirs from it
} as const;

const stageSchemas = {
  ingest: ingestParamsSchema,
  features: featuresParamsSchema,
  tokenize: tokenizeParamsSchema,
  train: trainParamsSchema,
  evaluate: evaluateParamsSchema,
} as const;

/** Params a matrix may vary: every stage param path, plus the pipeline seed. */
export const MATRIX_PARAMS = paramPaths(stageSchemas, { seed: topLevelSchema.seed });

export const pipelineSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    ...topLevelSchema,
    ...stageSchemas,
    // param path -> the values to try; `caption run` runs every combination (see matrix.ts)
    matrix: matrixSchema(MATRIX_PARAMS),
  },
} as const;

export type ResolvedPipeline = {
  name: string;
  seed: number;
  file: string;
  matrix?: Matrix;     // as written in the YAML, when it has one
  variant?: Variant;   // the matrix values these params were resolved with
} & Record<StageName, StageParamsFile<unknown>>;

/**
 * Validate the YAML and resolve every stage's params file. With `variant`, those param values replace the
 * YAML's (already checked against the param's schema by the `matrix` schema).
 */
export async function resolvePipeline(file: string, variant?: Variant): Promise<ResolvedPipeline> {
  if (!existsSync(file)) throw new PipelineError('usage', `pipeline file not found: ${file}`);
  const text = await readFile(file, 'utf8');
  const shown = path.relative(process.cwd(), file) || file;
  const validated = validateYaml<Record<string, unknown> & { name: string; seed: number; matrix?: Matrix }>(text, shown, pipelineSchema);
  const config = variant ? applyVariant(validated, variant) : validated;
  const out = { name: config.name, seed: config.seed, file } as ResolvedPipeline;
  if (validated.matrix) out.matrix = validated.matrix;
  if (variant) out.variant = variant;
  for (const stage of STAGES) out[stage] = { pipeline: config.name, seed: config.seed, params: config[stage] };
  await applyImportedCheckpoint(out, parseYaml(text, shown) as Record<string, unknown>, shown);
  out.ingest.inputs = await datasetInputs(config.ingest as IngestParams);
  const weights = (out.features.params as { weights?: string }).weights;
  if (weights && !NAMED_WEIGHTS.includes(weights)) out.features.inputs = await fileInputs(weights, 'features.weights');
  return out;
}

/** Every variant of a matrix pipeline, resolved; a pipeline without a matrix is its own single variant. */
export async function resolveVariants(file: string): Promise<ResolvedPipeline[]> {
  const base = await resolvePipeline(file);
  if (!base.matrix) return [base];
  const variants: ResolvedPipeline[] = [];
  for (const variant of expandMatrix(base.matrix)) variants.push(await resolvePipeline(file, variant));
  return variants;
}

/** A real data set's content fingerprint becomes part of ingest's params file, hence of its Turbo hash. */
async function datasetInputs(params: IngestParams): Promise<Record<string, string>> {
  if (params.dataset === 'demo') return {};
  const dir = path.resolve(repoRoot(), expandEnv(params.dataset));
  if (!existsSync(dir)) throw new PipelineError('input', `ingest.dataset: directory not found: ${dir}`);
  const fp = await fingerprintDirectory(dir);
  return { dataset_sha256: fp.sha256, dataset_files: String(fp.files) };
}

/** A weights file or model directory named by path: its content (not its path) keys the features cache. */
async function fileInputs(spec: string, key: string): Promise<Record<string, string>> {
  const target = path.resolve(repoRoot(), expandEnv(spec));
  if (!existsSync(target)) throw new PipelineError('input', `${key}: not found: ${target}`);
  if (statSync(target).isDirectory()) return { weights_sha256: (await fingerprintDirectory(target)).sha256 };
  return { weights_sha256: await sha256File(target) };
}

/** Write each stage's params file, leaving unchanged files untouched. Returns the stages whose file changed. */
export async function writeParamsFiles(resolved: ResolvedPipeline): Promise<StageName[]> {
  const changed: StageName[] = [];
  for (const stage of STAGES) {
    const file = paramsFile(stage);
    const text = canonicalJson(resolved[stage]);
    if (existsSync(file) && (await readFile(file, 'utf8')) === text) continue;
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
    changed.push(stage);
  }
  return changed;
}
