/**
 * manifest.json: what an artifact is, what it was built from and what it contains. It carries no
 * timestamp or host name, so the same inputs give byte-identical manifests (what keeps Turbo's cache honest).
 */
import type { StageName } from '../paths.ts';

export interface FileEntry {
  sha256: string;
  bytes: number;
}

export interface Manifest {
  kind: string;                          // e.g. 'captions', 'features', 'tokens', 'checkpoint', 'report'
  schemaVersion: number;                 // bumped when the artifact's layout changes
  stage: StageName;
  createdBy: string;                     // '@caption/<stage>@<version>'
  params: unknown;                       // the stage's resolved params, exactly as used
  upstream: Partial<Record<StageName, string>>; // stage -> sha256 of the manifest.json it read
  rows: Record<string, number>;          // row counts per table / figure
  files: Record<string, FileEntry>;      // every file in the artifact but manifest.json itself
  extra?: Record<string, unknown>;       // stage-specific facts (backend used, shapes, metrics...)
}

export type ManifestDraft = Omit<Manifest, 'files'>;

export const MANIFEST_FILE = 'manifest.json';
