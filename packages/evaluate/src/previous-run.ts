/**
 * The report that was in the evaluate output directory before this run (read before the writer replaces
 * it), so the new report can say what changed. Older reports without CIDEr-D / ROUGE-L give only BLEU.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { MANIFEST_FILE, openArtifact } from '@caption/core';
import { METRICS, type MetricName } from './transform.ts';

export interface PreviousRun {
  manifestHash: string;                           // sha256 of its manifest.json, as upstream hashes are
  pipeline: string;
  decoder: string;
  decoding: string;
  split: string;
  images: number;
  metrics: Partial<Record<MetricName, number>>;
}

export async function readPreviousRun(dir: string): Promise<PreviousRun | undefined> {
  if (!existsSync(path.join(dir, MANIFEST_FILE)) || !existsSync(path.join(dir, 'report.json'))) return undefined;
  const artifact = await openArtifact(dir, 'report');
  const report = JSON.parse(await readFile(artifact.file('report.json'), 'utf8')) as Record<string, unknown>;
  return {
    manifestHash: artifact.manifestHash,
    pipeline: String(report.pipeline ?? '?'),
    decoder: String(report.decoder ?? '?'),
    decoding: String(report.decoding ?? 'greedy decoding'),
    split: String(report.split ?? '?'),
    images: Number(report.images ?? 0),
    metrics: reportMetrics(report),
  };
}

/** report.json -> metrics by gate name (bleu: [b1..b4], ciderD, rougeL); absent or non-numeric ones left out. */
export function reportMetrics(report: Record<string, unknown>): Partial<Record<MetricName, number>> {
  const bleu = Array.isArray(report.bleu) ? report.bleu : [];
  const values: Record<MetricName, unknown> = {
    bleu1: bleu[0], bleu2: bleu[1], bleu3: bleu[2], bleu4: bleu[3], ciderD: report.ciderD, rougeL: report.rougeL,
  };
  return Object.fromEntries(METRICS.filter((m) => typeof values[m] === 'number').map((m) => [m, values[m] as number]));
}
