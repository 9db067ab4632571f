/**
 * The pycocoevalcap test vectors in $CAPTION_SHARED/test-vectors: one loader (with the loud skip message when
 * the variable is unset) and one per-image/corpus check shared by the metric tests.
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const TOLERANCE = 1e-6;

export interface VectorFile {
  references: Record<string, string[]>;
  systems: Record<string, { corpus: Record<string, number>; hypotheses: Record<string, string>; per_image?: Record<string, Record<string, number>> }>;
}

const shared = process.env.CAPTION_SHARED;
export const vectorPath = shared === undefined ? undefined : join(shared, 'test-vectors', 'caption-metrics-flickr8k-dev.json');

/** The skip message for tests that need the vectors (printed once per caller), or undefined when present. */
export function vectorsSkip(purpose: string): string | undefined {
  const message = shared === undefined
    ? `SKIPPED: set CAPTION_SHARED (the shared folder, e.g. /work/shared) to check ${purpose} against the pycocoevalcap test vectors`
    : !existsSync(vectorPath!)
      ? `SKIPPED: CAPTION_SHARED=${shared} has no test-vectors/caption-metrics-flickr8k-dev.json`
      : undefined;
  if (message !== undefined) console.warn(message);
  return message;
}

export const loadVectors = (): VectorFile => JSON.parse(readFileSync(vectorPath!, 'utf8')) as VectorFile;

/** Every system's corpus score and every per-image score of `metric` within TOLERANCE. */
export function checkScalarMetric(
  t: TestContext,
  metric: 'CIDEr' | 'ROUGE_L',
  score: (hyps: Map<string, string>, refs: Map<string, string[]>) => { score: number; perImage: Map<string, number> },
): void {
  const vectors = loadVectors();
  const references = new Map(Object.entries(vectors.references));
  assert.ok(Object.keys(vectors.systems).length > 0, 'no systems in test vectors');
  for (const [system, data] of Object.entries(vectors.systems)) {
    const result = score(new Map(Object.entries(data.hypotheses)), references);
    let maxDeviation = 0;
    let checked = 0;
    for (const [image, expected] of Object.entries(data.per_image ?? {})) {
      if (expected[metric] === undefined) continue;
      const actual = result.perImage.get(image);
      assert.ok(actual !== undefined, `${system}: no per-image score for ${image}`);
      checked++;
      maxDeviation = Math.max(maxDeviation, Math.abs(actual - expected[metric]));
      assert.ok(Math.abs(actual - expected[metric]) <= TOLERANCE, `${system} ${image}: got ${actual}, expected ${expected[metric]}`);
    }
    const corpusDeviation = Math.abs(result.score - data.corpus[metric]);
    t.diagnostic(`${system}: |corpus dev| ${corpusDeviation.toExponential(2)}; max |per-image dev| ${maxDeviation.toExponential(2)} over ${checked}`);
    assert.ok(corpusDeviation <= TOLERANCE, `${system} corpus: got ${result.score}, expected ${data.corpus[metric]}`);
  }
}
