/**
 * Package boundaries, read from the sources: stages meet only through artifacts (no stage imports another),
 * core imports no other package, the shared packages (model, metrics, backbones) import only core, evaluate and
 * the CLI reach decoders through @caption/model (never @caption/train's code), every workspace import is a
 * declared dependency, stages do no file I/O outside core (ingest's raw data-set readers aside), Turbo hashes
 * exactly the sources a stage imports, and no source file is over 250 lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO } from './helpers/workspace.ts';

const STAGES = ['ingest', 'features', 'tokenize', 'train', 'evaluate'];
const SHARED = ['model', 'metrics', 'backbones'];
const PACKAGES = readdirSync(path.join(REPO, 'packages')).filter((p) => statSync(path.join(REPO, 'packages', p)).isDirectory()).sort();
/** Files that read a data set as it comes out of its archives: the only file I/O a stage does itself. */
const RAW_READERS = ['ingest/src/read-source.ts', 'ingest/src/probe.ts', 'ingest/src/demo/generate.ts'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every module a package's src/ imports: `@caption/<pkg>[/sub]`, `node:*`, npm names, or relative paths resolved. */
function importsOf(pkg: string): { file: string; spec: string }[] {
  return sources(path.join(REPO, 'packages', pkg, 'src')).flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'";]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)].map((m) => m[1] ?? m[2]);
    return specs.map((spec) => ({ file: path.relative(path.join(REPO, 'packages'), file), spec }));
  });
}

/** The workspace package an import lands in (a relative path that leaves its package counts too). */
function targetPackage(file: string, spec: string): string | undefined {
  if (spec.startsWith('@caption/')) return spec.split('/')[1];
  if (!spec.startsWith('.')) return undefined;
  const abs = path.resolve(path.join(REPO, 'packages', path.dirname(file)), spec);
  return path.relative(path.join(REPO, 'packages'), abs).split(path.sep)[0];
}

const workspaceImports = (pkg: string) =>
  importsOf(pkg).map((i) => ({ ...i, to: targetPackage(i.file, i.spec) })).filter((i) => i.to && i.to !== pkg);

test('boundaries: no stage imports another stage; core imports no package; model, metrics and backbones import only core', () => {
  const bad: string[] = [];
  for (const pkg of PACKAGES) {
    for (const i of workspaceImports(pkg)) {
      if (STAGES.includes(pkg) && STAGES.includes(i.to!)) bad.push(`${i.file}: ${i.spec} (a stage importing a stage)`);
      if (pkg === 'core') bad.push(`${i.file}: ${i.spec} (core imports no other package)`);
      if (SHARED.includes(pkg) && i.to !== 'core') bad.push(`${i.file}: ${i.spec} (${pkg} may import core only)`);
    }
  }
  assert.deepEqual(bad, []);
});

test('boundaries: evaluate and the CLI reach decoders through @caption/model, never through @caption/train', () => {
  const bad = ['evaluate', 'cli'].flatMap((pkg) => workspaceImports(pkg)
    // the CLI assembles the pipeline schema from every stage's params schema: that subpath is data, not train code
    .filter((i) => i.to === 'train' && !(pkg === 'cli' && i.spec === '@caption/train/params'))
    .map((i) => `${i.file}: ${i.spec}`));
  assert.deepEqual(bad, []);
  for (const pkg of ['evaluate', 'cli']) {
    assert.ok(workspaceImports(pkg).some((i) => i.spec === '@caption/model'), `${pkg} imports @caption/model`);
  }
});

test('boundaries: every workspace import is a declared dependency, and every declared one is used', () => {
  for (const pkg of PACKAGES) {
    const declared = Object.keys(readPackageJson(pkg).dependencies ?? {}).filter((d) => d.startsWith('@caption/')).map((d) => d.split('/')[1]).sort();
    const used = [...new Set(workspaceImports(pkg).map((i) => i.to!))].sort();
    assert.deepEqual(used, declared, `${pkg}: imports vs package.json dependencies`);
  }
});

test('boundaries: stage packages do no file I/O of their own (core\'s catalog does it), ingest\'s raw data-set readers aside', () => {
  const bad = STAGES.flatMap((pkg) => importsOf(pkg)
    .filter((i) => /^node:fs(\/promises)?$/.test(i.spec) && !RAW_READERS.includes(i.file.split(path.sep).join('/')))
    .map((i) => `${i.file}: ${i.spec}`));
  assert.deepEqual(bad, []);
});

test('boundaries: turbo.json hashes exactly what each stage runs: its own source and that of every workspace package it depends on', () => {
  const turbo = JSON.parse(readFileSync(path.join(REPO, 'turbo.json'), 'utf8')) as { tasks: Record<string, { inputs: string[] }> };
  for (const stage of STAGES) {
    const deps = transitiveDependencies(stage);
    const want = ['src/**', 'package.json', `$TURBO_ROOT$/.caption/params/${stage}.json`, ...deps.map((d) => `$TURBO_ROOT$/packages/${d}/src/**`)];
    assert.deepEqual(turbo.tasks[`@caption/${stage}#${stage}`].inputs, want, `${stage}: turbo.json inputs (dependencies: ${deps.join(', ')})`);
  }
});

test('boundaries: no source file is over 250 lines', () => {
  const long = PACKAGES.flatMap((pkg) => sources(path.join(REPO, 'packages', pkg, 'src')))
    .map((f) => [path.relative(REPO, f), readFileSync(f, 'utf8').split('\n').length - 1] as const)
    .filter(([, n]) => n > 250);
  assert.deepEqual(long, []);
});

function readPackageJson(pkg: string): { dependencies?: Record<string, string> } {
  return JSON.parse(readFileSync(path.join(REPO, 'packages', pkg, 'package.json'), 'utf8'));
}

/** Workspace packages a package depends on, directly or through others, sorted. */
function transitiveDependencies(pkg: string, seen = new Set<string>()): string[] {
  for (const dep of Object.keys(readPackageJson(pkg).dependencies ?? {})) {
    const name = dep.startsWith('@caption/') ? dep.split('/')[1] : undefined;
    if (name && !seen.has(name)) {
      seen.add(name);
      transitiveDependencies(name, seen);
    }
  }
  return [...seen].sort();
}
