/**
 * `caption status --verify`: every artifact on disk checked against its manifest (each listed file's size and
 * sha256, streamed), so corruption is found before a stage trips over it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { MANIFEST_FILE, STAGES, artifactDir, displayPath, openStage, repoRoot, type StageName } from '@caption/core';

export interface ArtifactCheck {
  stage: StageName;
  state: 'ok' | 'corrupt' | 'missing';
  files: number;                 // files the manifest lists
  bytes: number;
  problems: string[];            // `<file>: <what is wrong>`
}

export async function verifyArtifacts(root = repoRoot()): Promise<ArtifactCheck[]> {
  const out: ArtifactCheck[] = [];
  for (const stage of STAGES) {
    const dir = artifactDir(stage, root);
    if (!existsSync(path.join(dir, MANIFEST_FILE))) {
      out.push({ stage, state: 'missing', files: 0, bytes: 0, problems: [] });
      continue;
    }
    try {
      const artifact = await openStage(stage, dir);
      const entries = Object.values(artifact.manifest.files);
      const problems = (await artifact.verify()).map((c) => `${displayPath(c.file)}: ${c.problem}`);
      out.push({ stage, state: problems.length ? 'corrupt' : 'ok', files: entries.length, bytes: entries.reduce((a, e) => a + e.bytes, 0), problems });
    } catch (err) {
      out.push({ stage, state: 'corrupt', files: 0, bytes: 0, problems: [(err as Error).message] });
    }
  }
  return out;
}

export function formatChecks(checks: ArtifactCheck[]): string {
  const width = Math.max(...checks.map((c) => c.stage.length));
  return checks.map((c) => {
    const head = `  ${c.stage.padEnd(width)}  ${c.state.padEnd(7)}  `;
    if (c.state === 'missing') return `${head}no artifact\n`;
    if (c.state === 'ok') return `${head}${c.files} files, ${(c.bytes / 1e6).toFixed(1)} MB verified\n`;
    return head + c.problems.join(`\n${' '.repeat(head.length)}`) + '\n';
  }).join('');
}
