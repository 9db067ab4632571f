/**
 * The version of some code of this checkout: a hash of the sources of the named workspace packages and of
 * the installed versions of the libraries they link. Work stored outside Turbo (rows in the content store,
 * jobs on a queue) is reused or taken only under the same version, as Turbo's input hash does for a task.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalJson, sha256 } from './hash.ts';

/** The checkout this module runs from (not CAPTION_ROOT: the version is of the code that runs). */
const CHECKOUT = fileURLToPath(new URL('../../..', import.meta.url));

const memo = new Map<string, string>();

export function codeVersion(packages: readonly string[], libraries: readonly string[], root = CHECKOUT): string {
  const key = canonicalJson({ packages, libraries, root });
  if (memo.has(key)) return memo.get(key)!;
  const files: Record<string, string> = {};
  for (const pkg of packages) {
    const dir = path.join(root, 'packages', pkg);
    for (const rel of ['package.json', ...listFiles(path.join(dir, 'src'), 'src')]) files[`${pkg}/${rel}`] = sha256(readFileSync(path.join(dir, rel)));
  }
  const versions = Object.fromEntries(libraries.map((lib) => [lib, libraryVersion(root, packages, lib)]));
  const version = sha256(canonicalJson({ files, libraries: versions }));
  memo.set(key, version);
  return version;
}

/** The version a package links (read from disk: `require.resolve` would follow pnpm's NODE_PATH). */
function libraryVersion(root: string, packages: readonly string[], lib: string): string {
  for (const pkg of packages) {
    const file = path.join(root, 'packages', pkg, 'node_modules', lib, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return 'absent';
}

function listFiles(dir: string, rel: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1)).flatMap((e) =>
    e.isDirectory() ? listFiles(path.join(dir, e.name), `${rel}/${e.name}`) : [`${rel}/${e.name}`]);
}
