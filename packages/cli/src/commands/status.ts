/**
 * `caption status <pipeline.yaml>`: per stage cached / stale / missing and why, without running anything
 * (Turbo dry run + the recorded runs; params files are put back as they were, artifacts are not touched).
 */
import path from 'node:path';
import { PipelineError, RESTORE_HINT, repoRoot } from '@caption/core';
import { resolveVariants } from '../pipeline.ts';
import { describeChange } from '../params-diff.ts';
import { variantLabel } from '../matrix.ts';
import { pipelineStatus, type StageStatus } from '../stage-status.ts';
import { formatChecks, verifyArtifacts } from '../verify.ts';
import type { Command } from '../command.ts';

export const statusCommand: Command = {
  name: 'status',
  summary: 'per stage: cached / stale / missing, and why (changed param, input file, upstream stage); runs nothing\n' +
    'with --verify: every artifact on disk checked against its manifest (size and sha256 of each file)',
  usage: 'caption status <pipeline.yaml> [--json] [--verify]  |  caption status --verify',
  options: {
    json: { type: 'boolean', description: 'print the status as JSON' },
    verify: { type: 'boolean', description: 'check every artifact file against its manifest; exit 1 naming any corrupt file' },
  },
  locks: true,
  async run({ positionals, values }) {
    if (positionals.length > 1 || (!positionals.length && !values.verify)) {
      throw new PipelineError('usage', 'status takes exactly one pipeline file (or none, with --verify)');
    }
    const results = positionals.length ? await statusOf(positionals[0]) : undefined;
    const checks = values.verify ? await verifyArtifacts() : undefined;
    if (values.json) {
      const status = results && (results.length > 1 ? results : results[0]);
      process.stdout.write(`${JSON.stringify(checks ? { status, artifacts: checks } : status, null, 2)}\n`);
    } else {
      for (const [i, r] of (results ?? []).entries()) {
        const title = `${r.pipeline} (${r.file}${r.variant ? `, ${variantLabel(r.variant)}` : ''})`;
        process.stdout.write(`${i ? '\n' : ''}${title}: ${summary(r.stages)}\n${formatStatus(r.stages)}`);
      }
      if (checks) process.stdout.write(`${results ? '\n' : ''}artifacts (verified against their manifests):\n${formatChecks(checks)}`);
    }
    const corrupt = (checks ?? []).filter((c) => c.state === 'corrupt');
    if (corrupt.length) {
      throw new PipelineError('input', `corrupt artifact${corrupt.length > 1 ? 's' : ''}: ${corrupt.map((c) => c.stage).join(', ')} (named above); ${RESTORE_HINT}`);
    }
  },
};

async function statusOf(file: string) {
  const variants = await resolveVariants(path.resolve(file));
  const results = [];
  for (const resolved of variants) {
    results.push({ pipeline: resolved.name, file: path.relative(repoRoot(), resolved.file), variant: resolved.variant, stages: await pipelineStatus(resolved) });
  }
  return results;
}

const summary = (stages: StageStatus[]) =>
  (['cached', 'stale', 'missing'] as const).map((s) => [s, stages.filter((x) => x.state === s).length] as const)
    .filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`).join(', ');

export function formatStatus(stages: StageStatus[]): string {
  const width = Math.max(...stages.map((s) => s.stage.length));
  return stages.map((s) => {
    const why = reasons(s);
    const head = `  ${s.stage.padEnd(width)}  ${s.state.padEnd(7)}  `;
    return head + why.join(`\n${' '.repeat(head.length)}`) + '\n';
  }).join('');
}

const globalName = (key: string) =>
  key === 'hashOfInternalDependencies' ? 'a workspace package the root package.json depends on'
    : key === 'hashOfExternalDependencies' ? 'the root package\'s external dependencies (lockfile)'
      : key;

function reasons(s: StageStatus): string[] {
  if (s.state === 'cached') return [s.note ?? 'in the Turbo cache'];
  const out = [
    ...s.params.map(describeChange),
    ...s.files.map((f) => `${f.file} ${f.change}`),
    ...s.upstream.map((u) => `upstream ${u} re-runs`),
  ];
  // A global change misses every task; name it where nothing closer explains the miss.
  if (!out.length && s.global.length) out.push(`Turbo global inputs changed: ${s.global.map(globalName).join(', ')}`);
  if (!out.length) out.push(s.state === 'missing' && !s.comparedWith ? 'no artifact yet' : 'Turbo task hash changed (turbo.json, lockfile, env or global inputs)');
  if (s.comparedWith) out[0] += ` (vs ${s.comparedWith === 'manifest' ? 'the artifact manifest' : `run ${s.comparedWith}`})`;
  return s.state === 'missing' && s.comparedWith ? ['no artifact; since the last run:', ...out] : out;
}
