/**
 * A data set directory's identity for Turbo: sha256 over every file's relative path, size and content
 * hash. It goes into the ingest params file, so an edited caption file or an added image misses the cache.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { sha256, sha256File } from '../hash.ts';

export async function fingerprintDirectory(dir: string): Promise<{ files: number; bytes: number; sha256: string }> {
  const files = (await walk(dir)).sort();
  const limit = pLimit(8);
  const lines = await Promise.all(
    files.map((rel) =>
      limit(async () => {
        const abs = path.join(dir, rel);
        const st = await stat(abs);
        return { line: `${rel}\t${st.size}\t${await sha256File(abs)}`, size: st.size };
      }),
    ),
  );
  return {
    files: files.length,
    bytes: lines.reduce((a, l) => a + l.size, 0),
    sha256: sha256(lines.map((l) => l.line).join('\n')),
  };
}

async function walk(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await walk(dir, rel)));
    else if (e.isFile()) out.push(rel);
  }
  return out;
}
