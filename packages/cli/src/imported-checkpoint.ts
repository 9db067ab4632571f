/**
 * A pipeline that scores a trained checkpoint on its own data set (`train.checkpoint`): the checkpoint's content
 * hash keys the train task's cache (Turbo sees the params file, not the directory), and the features params it
 * was trained with (backbone, weights, cut layer, engine, dtype) become this pipeline's, so this data set's
 * features come from the same network. Evaluate checks the features' weights hash against the checkpoint's.
 */
import { PipelineError, canonicalJson, catalog, checkpointDigest, checkpointDirOf, displayPath } from '@caption/core';

/** The features params that decide the feature values, hence must be the checkpoint's. */
const FEATURE_IDENTITY = ['backbone', 'weights', 'cutLayer', 'engine', 'dtype'] as const;

interface Resolving {
  seed: number;
  features: { params: unknown; inputs?: Record<string, string> };
  train: { params: unknown; inputs?: Record<string, string> };
}

/** When `train.checkpoint` is set: key the train task by the checkpoint's content, take its features params. */
export async function applyImportedCheckpoint(out: Resolving, raw: Record<string, unknown>, file: string): Promise<void> {
  const spec = (out.train.params as { checkpoint?: string }).checkpoint;
  if (!spec) return;
  const setHere = Object.keys((raw.train ?? {}) as object).filter((k) => k !== 'checkpoint');
  if (setHere.length) {
    throw new PipelineError('config', `${file}: train.checkpoint scores a trained checkpoint, so train.${setHere.join(', train.')} ` +
      'would be ignored; remove it (or train.checkpoint, to train here)');
  }
  const dir = checkpointDirOf(spec);
  const { files } = await catalog.train.checkpoint.loadDir(dir);
  out.train.params = { checkpoint: spec };
  out.train.inputs = { checkpoint_sha256: checkpointDigest(files) };

  const extra = (JSON.parse(String(files['model.json'])) as { extra?: Record<string, unknown> }).extra ?? {};
  const recorded = extra.featuresParams as Record<string, unknown> | undefined;
  if (!recorded?.backbone) {
    throw new PipelineError('input', `train.checkpoint ${displayPath(dir)} does not record the features params it was trained on; ` +
      're-run the train stage that made it');
  }
  const given = (raw.features ?? {}) as Record<string, unknown>;
  const features = out.features.params as Record<string, unknown>;
  for (const key of FEATURE_IDENTITY) {
    if (key in given && canonicalJson(given[key]) !== canonicalJson(recorded[key])) {
      throw new PipelineError('config', `${file}: features.${key} is ${JSON.stringify(given[key])}, but checkpoint ${displayPath(dir)} ` +
        `was trained on features with ${key} ${JSON.stringify(recorded[key] ?? '(the backbone\'s)')}; leave features.${key} out (it comes from the checkpoint)`);
    }
    if (recorded[key] === undefined) delete features[key];
    else features[key] = recorded[key];
  }
  if (recorded.weights === 'random' && extra.seed !== undefined && extra.seed !== out.seed) {
    throw new PipelineError('config', `${file}: the checkpoint's features used seeded random weights (seed ${String(extra.seed)}); set seed: ${String(extra.seed)}`);
  }
}
