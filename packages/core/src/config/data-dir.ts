/**
 * Containment of a data set: a path under the data directory counts as inside only if its real path (every
 * symlink resolved) is the data directory's real path or below it. Ingest never opens, and the fingerprint
 * never reads, anything that resolves outside.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';

export const isInside = (rootReal: string, real: string) => real === rootReal || real.startsWith(rootReal + path.sep);

export type Resolved = { state: 'inside'; real: string } | { state: 'outside'; real: string } | { state: 'missing' };

/** Where `abs` really is, relative to the data directory whose real path is `rootReal`. */
export async function resolveUnder(rootReal: string, abs: string): Promise<Resolved> {
  let real: string;
  try {
    real = await realpath(abs);
  } catch {
    return { state: 'missing' }; // no such file, or a link to nothing
  }
  return isInside(rootReal, real) ? { state: 'inside', real } : { state: 'outside', real };
}

/** The reject detail for an entry that resolves outside. */
export const outsideDetail = (real: string, rootReal: string) => `resolves to ${real}, outside the data directory ${rootReal}`;
