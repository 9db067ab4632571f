/**
 * `caption predict <images or dirs...>`: caption new images with a trained checkpoint. The backbone the
 * checkpoint's features came from is rebuilt from its record (weights hash checked), the images' features are
 * computed in memory as the features stage computes them, and evaluate's decoders turn them into captions.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError, artifactDir, catalog, checkpointDirOf, createLogger, decodeIds, type Vocabulary } from '@caption/core';
import { initTf } from '@caption/core/tf';
import { attentionGrid, attentionOverlay, evaluateParamsSchema } from '@caption/evaluate';
import type { Command } from '../command.ts';
import { rebuildBackbone, recordedFeatures } from '../predict/backbone.ts';
import { computeFeatures } from '../predict/features.ts';
import { expandPaths, openImages } from '../predict/images.ts';
import { decodeCheckpoint, beamDecode, greedyDecode, type DecodedCaption } from '@caption/model';

const log = createLogger('predict');
const DEFAULTS = evaluateParamsSchema.properties;
/** Decoders whose `next()` returns attention weights over the feature positions. */
const ATTENTION_DECODERS = ['attention-gru', 'transformer'];

export const predictCommand: Command = {
  name: 'predict',
  summary: 'caption JPEG/PNG/WebP images with a trained checkpoint (one line per image: file, tab, caption)',
  usage: 'caption predict <image files or dirs...> [--checkpoint <dir>] [--beam k] [--length-penalty x] [--max-length n] [--attention out.png] [--json]',
  options: {
    checkpoint: { type: 'string', description: 'checkpoint directory, or a train artifact holding one (default: artifacts/train/checkpoint)' },
    beam: { type: 'string', description: 'beam search with k beams (without it: greedy decoding; --beam 1 gives the greedy caption by beam search)' },
    'length-penalty': { type: 'string', description: `beam search: rank by log p / length^x (default ${DEFAULTS.lengthPenalty.default})` },
    'max-length': { type: 'string', description: `most words per caption (default ${DEFAULTS.maxLength.default}, as evaluate)` },
    attention: { type: 'string', description: 'write per-word attention heat maps to this PNG (several images: <name>-1.png, <name>-2.png, ... in input order)' },
    json: { type: 'boolean', description: 'print one JSON object: {"captions":[{file,caption,attention?}],"errors":[{file,error}],"skipped":[{file,reason}]}' },
  },
  async run({ positionals, values }) {
    if (!positionals.length) throw new PipelineError('usage', 'predict needs at least one image file or directory');
    const checkpointDir = typeof values.checkpoint === 'string' ? checkpointDirOf(path.resolve(values.checkpoint)) : path.join(artifactDir('train'), 'checkpoint');
    const beam = values.beam === undefined ? undefined : intOption(values.beam, 'beam', 1, 1, DEFAULTS.beamSize.maximum);
    const maxLength = intOption(values['max-length'], 'max-length', DEFAULTS.maxLength.default, 1, DEFAULTS.maxLength.maximum);
    const lengthPenalty = numberOption(values['length-penalty'], 'length-penalty', DEFAULTS.lengthPenalty.default);
    const attentionOut = typeof values.attention === 'string' ? values.attention : undefined; // as given, for the log

    const loadStarted = performance.now();
    await initTf();
    const ckpt = await loadCheckpointOrFail(checkpointDir);
    if (attentionOut && !ATTENTION_DECODERS.includes(ckpt.model.config.decoder)) {
      throw new PipelineError('usage', `--attention: the checkpoint's decoder '${ckpt.model.config.decoder}' has no attention (attention decoders: ${ATTENTION_DECODERS.join(', ')})`);
    }
    const recorded = recordedFeatures(ckpt.extra, checkpointDir);
    const grid = attentionOut ? gridOf(recorded.shape[0]) : undefined;
    const rebuilt = await rebuildBackbone(recorded, checkpointDir);
    log.info(`loaded ${ckpt.model.config.decoder} + ${rebuilt.backbone.id} on ${rebuilt.engine.name} in ${seconds(loadStarted)} s`);

    const started = performance.now();
    const { files, failed: badPaths, skipped } = await expandPaths(positionals);
    for (const s of skipped) log.info(`skipped ${s.file}: ${s.reason}`);
    const inputs = await openImages(files);
    const readable = inputs.flatMap((img, i) => (img.ok ? [{ id: String(i), file: img.file, sha256: img.sha256 }] : []));
    const { features, failed: undecodable } = await computeFeatures(readable, rebuilt);
    rebuilt.engine.dispose();
    const errors = new Map<number, string>();
    inputs.forEach((img, i) => !img.ok && errors.set(i, img.reason));
    for (const f of undecodable) errors.set(Number(f.id), f.reason);
    const ids = readable.map((r) => r.id).filter((id) => !errors.has(Number(id)));

    const decoded: DecodedCaption[] = beam !== undefined
      ? beamDecode(ckpt.model, features, ids, { beamSize: beam, maxLength, lengthPenalty, batchSize: Math.max(1, Math.floor(DEFAULTS.batchSize.default / beam)) })
      : greedyDecode(ckpt.model, features, ids, maxLength, DEFAULTS.batchSize.default);
    const secs = (performance.now() - started) / 1000;
    log.info(`captioned ${ids.length} image${ids.length === 1 ? '' : 's'} in ${secs.toFixed(2)} s (${(ids.length / secs).toFixed(2)} images/s; ` +
      `read + features + ${beam !== undefined ? `beam search k=${beam}` : 'greedy decoding'})`);

    const captions = ids.map((id, k) => {
      const words = decodeIds(decoded[k].tokens, ckpt.vocabulary);
      return { index: Number(id), file: files[Number(id)], caption: words, decoded: decoded[k] };
    });
    const written = attentionOut && grid ? await writeOverlays(captions, attentionOut, files.length > 1, grid, ckpt.vocabulary) : new Map<number, string>();

    const failures = [...badPaths.map((b) => ({ file: b.file, error: b.reason })),
      ...[...errors].sort(([a], [b]) => a - b).map(([i, error]) => ({ file: files[i], error }))];
    for (const f of failures) log.warn(`${f.file}: ${f.error}`);
    if (values.json) {
      process.stdout.write(`${JSON.stringify({
        captions: captions.map((c) => ({ file: c.file, caption: c.caption, ...(written.has(c.index) ? { attention: written.get(c.index) } : {}) })),
        errors: failures,
        skipped: skipped.map((s) => ({ file: s.file, reason: s.reason })),
      }, null, 2)}\n`);
    } else {
      for (const c of captions) process.stdout.write(`${c.file}\t${c.caption}\n`);
    }
    if (failures.length) {
      throw new PipelineError('input', `${failures.length} of ${files.length + badPaths.length} inputs could not be captioned (named above)`);
    }
  },
};

/** One overlay PNG per captioned image; with several inputs `out-<n>.png`, n = the input's position (1-based). */
async function writeOverlays(
  captions: { index: number; file: string; decoded: DecodedCaption }[], out: string, numberThem: boolean, grid: [number, number], vocabulary: Vocabulary,
): Promise<Map<number, string>> {
  const written = new Map<number, string>();
  for (const c of captions) {
    const file = numberThem ? numbered(out, c.index + 1) : out;
    // one label per emitted token, so words and attention rows stay paired
    const words = Array.from(c.decoded.tokens, (id) => vocabulary.tokens[id] ?? '<unk>');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, await attentionOverlay(c.file, words, c.decoded.attention ?? [], grid));
    written.set(c.index, file);
    log.info(`attention: ${c.file} -> ${file}`);
  }
  return written;
}

/** The checkpoint, its files verified against the train artifact's manifest (a copied directory without one: warned). */
async function loadCheckpointOrFail(dir: string) {
  try {
    const { files, unverified } = await catalog.train.checkpoint.loadDir(dir);
    if (unverified) log.warn(`${dir}: no manifest beside the checkpoint, so its files cannot be verified`);
    return decodeCheckpoint(files, dir);
  } catch (err) {
    if (err instanceof PipelineError) throw err;
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? `${e.path ?? 'a file'} is missing` : e.message.split('\n')[0];
    throw new PipelineError('input', `cannot load checkpoint ${dir}: ${why} (train one with \`pnpm caption run <pipeline.yaml>\`, or pass --checkpoint <dir>)`);
  }
}

function gridOf(positions: number): [number, number] {
  try {
    if (positions < 2) throw new Error(`the features have ${positions} position (a pooled backbone): no spatial attention`);
    return attentionGrid(positions);
  } catch (err) {
    throw new PipelineError('usage', `--attention: ${(err as Error).message}`);
  }
}

/** out.png -> out-3.png */
function numbered(file: string, n: number): string {
  const ext = path.extname(file);
  return `${file.slice(0, file.length - ext.length)}-${n}${ext || '.png'}`;
}

function intOption(v: string | boolean | undefined, name: string, fallback: number, min: number, max: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new PipelineError('usage', `--${name} must be an integer from ${min} to ${max} (got '${v}')`);
  return n;
}

function numberOption(v: string | boolean | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new PipelineError('usage', `--${name} must be a number >= 0 (got '${v}')`);
  return n;
}

const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(2);
