/**
 * A data set directory's identity for Turbo: sha256 over every file's relative path, size and content hash.
 * It goes into the ingest params file, so an edited caption file or an added image misses the cache. It hashes
 * what ingest reads: symlinks are followed while they stay inside the data directory; one that leads outside
 * counts by where it points (ingest rejects it without opening it), never by the bytes there.
 */
import { readdir, readlink, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { sha256, sha256File } from '../hash.ts';
import { resolveUnder } from './data-dir.ts';

type Entry = { rel: string; file: string } | { rel: string; link: string; why: 'outside' | 'dangling' | 'cycle' };

export async function fingerprintDirectory(dir: string): Promise<{ files: number; bytes: number; sha256: string }> {
  const rootReal = await realpath(dir);
  const entries = (await walk(rootReal, dir, '', new Set([rootReal]))).sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  const limit = pLimit(8);
  const lines = await Promise.all(entries.map((e) => limit(async () => {
    if ('link' in e) return { line: `${e.rel}\t${e.why} link\t${e.link}`, size: 0, file: false };
    const st = await stat(e.file);
    return { line: `${e.rel}\t${st.size}\t${await sha256File(e.file)}`, size: st.size, file: true };
  })));
  return {
    files: lines.filter((l) => l.file).length,
    bytes: lines.reduce((a, l) => a + l.size, 0),
    sha256: sha256(lines.map((l) => l.line).join('\n')),
  };
}

/** Files under `dir` (following links that stay inside), links that do not; `ancestors` guards against loops. */
async function walk(rootReal: string, dir: string, prefix: string, ancestors: Set<string>): Promise<Entry[]> {
  const out: Entry[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const abs = path.join(dir, e.name);
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await walk(rootReal, abs, rel, new Set([...ancestors, await realpath(abs)]))));
    else if (e.isFile()) out.push({ rel, file: abs });
    else if (e.isSymbolicLink()) {
      const to = await resolveUnder(rootReal, abs);
      const link = await readlink(abs);
      if (to.state !== 'inside') out.push({ rel, link, why: to.state === 'outside' ? 'outside' : 'dangling' });
      else if (!(await stat(to.real)).isDirectory()) out.push({ rel, file: to.real });
      else if (ancestors.has(to.real)) out.push({ rel, link, why: 'cycle' });
      else out.push(...(await walk(rootReal, abs, rel, new Set([...ancestors, to.real]))));
    }
  }
  return out;
}
