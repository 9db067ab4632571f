/**
 * Reads that verify: every file an artifact's manifest lists is checked against its size and sha256 before
 * its bytes are used, and a mismatch names the file and says how to get good bytes back.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { PipelineError } from '../errors.ts';
import { repoRoot } from '../paths.ts';
import type { FileEntry } from './manifest.ts';

export const RESTORE_HINT =
  '`caption run` restores it from the Turbo cache or the content store; `caption run --force` recomputes it';

/** The path to print: repository-relative when inside the workspace, else absolute. */
export function displayPath(file: string): string {
  let root: string | undefined;
  try {
    root = repoRoot();
  } catch {
    root = undefined;
  }
  const rel = root ? path.relative(root, file) : '';
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/** A file that does not match its manifest entry, and how. */
export type Corruption = { file: string; problem: string };

export function corruptArtifact(c: Corruption, hint = RESTORE_HINT): PipelineError {
  return new PipelineError('input', `corrupt artifact: ${displayPath(c.file)}: ${c.problem}; ${hint}`);
}

const sizeProblem = (found: number, entry: FileEntry) => `${found} bytes != ${entry.bytes} (manifest)`;
const hashProblem = (found: string, entry: FileEntry) => `sha256 ${found} != ${entry.sha256} (manifest)`;

/** Check bytes already read against the entry; throws `corrupt artifact: ...`. */
export function verifyBytes(file: string, bytes: Uint8Array, entry: FileEntry): void {
  if (bytes.byteLength !== entry.bytes) throw corruptArtifact({ file, problem: sizeProblem(bytes.byteLength, entry) });
  const found = createHash('sha256').update(bytes).digest('hex');
  if (found !== entry.sha256) throw corruptArtifact({ file, problem: hashProblem(found, entry) });
}

/** Stream a file through sha256 (no full copy in memory): the problem found, or undefined when it matches. */
export async function checkFile(file: string, entry: FileEntry): Promise<Corruption | undefined> {
  if (!existsSync(file)) return { file, problem: 'missing (listed in the manifest)' };
  const size = statSync(file).size;
  if (size !== entry.bytes) return { file, problem: sizeProblem(size, entry) };
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  const found = h.digest('hex');
  return found === entry.sha256 ? undefined : { file, problem: hashProblem(found, entry) };
}

/** `checkFile`, throwing `corrupt artifact: ...` on a mismatch. */
export async function verifyFile(file: string, entry: FileEntry): Promise<void> {
  const problem = await checkFile(file, entry);
  if (problem) throw corruptArtifact(problem);
}
