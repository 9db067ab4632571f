/** @caption/core: what every stage shares — artifact I/O, manifests, hashing, params, TF.js runtime. */
export { PipelineError, type PipelineErrorCode } from './errors.ts';
export { STAGES, type StageName, repoRoot, artifactDir, paramsFile, resolveDatasetRoot } from './paths.ts';
export { sha256, sha256File, canonicalJson } from './hash.ts';
export { Rng, deriveSeed } from './rng.ts';
export { createLogger, type Logger } from './log.ts';
export { runMain, runStage } from './main.ts';
export { readStageParams, type StageParamsFile } from './stage-params.ts';
export { ArtifactWriter, openArtifact, type Artifact } from './io/artifact.ts';
export { MANIFEST_FILE, type Manifest, type ManifestDraft, type FileEntry } from './io/manifest.ts';
export * from './io/tables.ts';
export * from './io/features.ts';
export { toFloat16Bits, fromFloat16Bits } from './io/float16.ts';
export { validateYaml } from './config/validate.ts';
export { expandEnv } from './config/env.ts';
export { fingerprintDirectory } from './config/fingerprint.ts';
export { FeatureStore } from './io/feature-store.ts';
export { createProgress, type Progress } from './progress.ts';
