/**
 * The contract between `caption run` and a stage task: one small JSON params file per stage, written by the CLI
 * from the pipeline YAML. Turbo hashes it as a task input, so a changed param re-runs exactly that stage and
 * everything downstream of it.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { PipelineError } from './errors.ts';
import { paramsFile, type StageName } from './paths.ts';

export interface StageParamsFile<P> {
  pipeline: string;     // pipeline name (from the YAML), for logs and reports
  seed: number;         // pipeline seed; stages derive their own from it
  params: P;            // the stage's resolved params (defaults filled in)
  inputs?: Record<string, string>; // fingerprints of external inputs (e.g. the data set directory)
}

export async function readStageParams<P>(stage: StageName, file = paramsFile(stage)): Promise<StageParamsFile<P>> {
  if (!existsSync(file)) {
    throw new PipelineError(
      'input',
      `no resolved params for stage '${stage}' at ${file}: run \`pnpm caption run <pipeline.yaml>\` ` +
        `(or \`pnpm caption resolve <pipeline.yaml>\` before \`turbo run ${stage}\`)`,
    );
  }
  return JSON.parse(await readFile(file, 'utf8')) as StageParamsFile<P>;
}
