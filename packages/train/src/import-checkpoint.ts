/**
 * `train.checkpoint`: score a checkpoint trained elsewhere (another pipeline, another data set) instead of
 * training one. The checkpoint is read verified (against the manifest of the train artifact holding it, when
 * there is one), checked against the content hash `caption run` keyed this task's cache with, decoded (a broken
 * checkpoint fails here, not in evaluate) and written as this pipeline's train artifact, with the source
 * artifact's training log and loss curve when it has them.
 */
import {
  ArtifactWriter, PipelineError, catalog, checkpointDigest, checkpointDirOf, createLogger, type Manifest, type StageParamsFile, type TrainingLogRow,
} from '@caption/core';
import { initTf } from '@caption/core/tf';
import { decodeCheckpoint } from '@caption/model';
import type { TrainParams } from './params.ts';

const log = createLogger('train');

/** The input key `caption run` records: the checkpoint's content hash (see checkpointDigest). */
export const CHECKPOINT_INPUT = 'checkpoint_sha256';

export async function importCheckpoint(p: StageParamsFile<TrainParams>, out: string, schemaVersion: number): Promise<Manifest> {
  const spec = p.params.checkpoint!;
  const dir = checkpointDirOf(spec);
  const { files, unverified, artifact } = await catalog.train.checkpoint.loadDir(dir);
  const digest = checkpointDigest(files);
  const keyed = p.inputs?.[CHECKPOINT_INPUT];
  if (keyed && keyed !== digest) {
    throw new PipelineError('input', `train.checkpoint ${spec}: its files changed since \`caption run\` resolved the pipeline ` +
      `(sha256 ${digest.slice(0, 16)}…, resolved ${keyed.slice(0, 16)}…); run it again`);
  }
  await initTf();
  const ckpt = decodeCheckpoint(files, dir);
  Object.values(ckpt.model.weights).forEach((w) => w.dispose());
  // the train artifact holding it, if any: its training log and loss curve come along
  const source = artifact?.manifest.kind === catalog.train.kind ? artifact : undefined;
  log.info(`scoring checkpoint ${spec} (${ckpt.model.config.decoder}, trained on ${String(ckpt.extra.backbone)} features` +
    `${unverified ? '; a bare directory, its files not verifiable' : ''})`);

  const writer = await ArtifactWriter.open(out, {});
  await catalog.train.checkpoint.save(writer, files);
  const history: TrainingLogRow[] = source ? await catalog.train.trainingLog.load(source) : [];
  await catalog.train.trainingLog.save(writer, history);
  if (source?.has(catalog.train.lossCurve.name)) await catalog.train.lossCurve.save(writer, await catalog.train.lossCurve.load(source));
  return writer.commit({
    kind: catalog.train.kind,
    schemaVersion,
    stage: 'train',
    createdBy: '@caption/train@0.1.0',
    params: p.params,
    upstream: {},
    rows: { epochs: history.length },
    extra: { imported: { checkpoint: spec, sha256: digest, sourceManifest: source?.manifestHash ?? null } },
  });
}
