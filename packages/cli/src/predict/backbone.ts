/**
 * The feature extractor a checkpoint was trained on, rebuilt from what the train stage recorded in the
 * checkpoint (`extra.features` = the features manifest's extra, `extra.featuresParams`, `extra.seed`) and
 * checked against it: same backbone, cut layer, preprocessing, shape and weights hash, or a clear error.
 */
import { PipelineError } from '@caption/core';
import { initTf } from '@caption/core/tf';
import type { FeaturesParams } from '@caption/features/params';
import { BACKBONES, WEIGHTS_NOTE, loadBackbone, onnxEngine, tfjsEngine, type Backbone, type FeatureEngine } from '@caption/backbones';

/** What the checkpoint says about its features. */
export interface RecordedFeatures {
  backbone: keyof typeof BACKBONES;
  weights: string;             // features.weights: 'pretrained', 'random' or a path
  seed: number;                // seeds `weights: random`
  cutLayer?: string;           // features.cutLayer override
  cut_layer: string;           // the extractor's output layer as recorded
  weights_sha256: string;
  preprocessing: string;
  engine: string;              // 'onnxruntime-cpu' or 'tfjs-<backend>'
  dtype: 'float16' | 'float32';
  shape: [number, number];
}

export interface RebuiltBackbone {
  backbone: Backbone;
  engine: FeatureEngine;
  dtype: 'float16' | 'float32';
}

const RETRAIN = 're-run the train stage (`pnpm caption run <pipeline.yaml>`) to write a checkpoint that records its backbone';

export function recordedFeatures(extra: Record<string, unknown>, checkpointDir: string): RecordedFeatures {
  const f = extra.features as Partial<Omit<RecordedFeatures, 'weights'>> & { weights?: string } | undefined;
  if (!f?.backbone || !f.weights_sha256 || !f.shape) {
    throw new PipelineError('input', `checkpoint ${checkpointDir} does not say which backbone made its features; ${RETRAIN}`);
  }
  const registry = BACKBONES[f.backbone as keyof typeof BACKBONES] as Backbone | undefined;
  if (!registry) throw new PipelineError('input', `checkpoint ${checkpointDir}: unknown backbone '${f.backbone}'`);
  const params = extra.featuresParams as Partial<FeaturesParams> | undefined;
  let weights = params?.weights;
  let cutLayer = params?.cutLayer;
  if (!params) {
    // Checkpoints written before the features params were recorded: only the default set-up can be inferred
    // (the weights note names the nsfwjs weights, the registry's cut layer); the hash check still applies.
    if (f.weights !== WEIGHTS_NOTE || f.cut_layer !== registry.cutLayer) {
      throw new PipelineError('input', `checkpoint ${checkpointDir} predates recording the features params (weights '${f.weights}', cut at '${f.cut_layer}'); ${RETRAIN}`);
    }
    weights = 'pretrained';
    cutLayer = undefined;
  }
  return {
    backbone: f.backbone as keyof typeof BACKBONES,
    weights: weights ?? 'pretrained',
    seed: Number(extra.seed ?? 0),
    cutLayer,
    cut_layer: f.cut_layer ?? registry.cutLayer,
    weights_sha256: f.weights_sha256,
    preprocessing: f.preprocessing ?? registry.preprocessing,
    engine: f.engine ?? 'onnxruntime-cpu',
    dtype: f.dtype ?? 'float16',
    shape: f.shape,
  };
}

/**
 * Load the backbone with the recorded weights and run it on the engine the features stage used (ONNX Runtime
 * with its cached graph unless the features came from TF.js), so the features match the stored shards.
 */
export async function rebuildBackbone(rec: RecordedFeatures, checkpointDir: string): Promise<RebuiltBackbone> {
  const backend = await initTf();
  let loaded;
  try {
    loaded = await loadBackbone(BACKBONES[rec.backbone], { weights: rec.weights, seed: rec.seed, cutLayer: rec.cutLayer });
  } catch (err) {
    throw new PipelineError('input', `cannot rebuild the backbone of checkpoint ${checkpointDir} (${rec.backbone}, weights '${rec.weights}'): ${(err as Error).message}`);
  }
  const { extractor, weightsHash, backbone } = loaded;
  if (weightsHash !== rec.weights_sha256) {
    throw new PipelineError('input', `weights mismatch: checkpoint ${checkpointDir} was trained on ${rec.backbone} features from weights '${rec.weights}' ` +
      `with sha256 ${rec.weights_sha256.slice(0, 16)}…, but those weights here hash to ${weightsHash.slice(0, 16)}… (the weights file changed?)`);
  }
  const differs = ([, here, there]: [string, unknown, unknown]) => JSON.stringify(here) !== JSON.stringify(there);
  const mismatch = ([['cut layer', backbone.cutLayer, rec.cut_layer], ['preprocessing', backbone.preprocessing, rec.preprocessing], ['shape', backbone.shape, rec.shape]] as [string, unknown, unknown][]).find(differs);
  if (mismatch) {
    throw new PipelineError('input', `checkpoint ${checkpointDir}: the ${rec.backbone} built here has ${mismatch[0]} ${JSON.stringify(mismatch[1])}, its features had ${JSON.stringify(mismatch[2])}`);
  }
  const engine = rec.engine.startsWith('tfjs') ? tfjsEngine(extractor, backbone, backend) : await onnxEngine(extractor, backbone, weightsHash);
  return { backbone, engine, dtype: rec.dtype };
}
