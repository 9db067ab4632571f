#!/usr/bin/env node
// The test command (`npm test`): typecheck, then every test file under Node's built-in runner.
// Ends with one line `N passed, M failed[, K skipped]` computed from the TAP results.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
process.chdir(root);
const only = process.argv.slice(2);

function findTests(dir) {
  let out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(findTests(p));
    else if (name.endsWith('.test.ts')) out.push(path.relative(root, p));
  }
  return out;
}
const files = [...findTests('packages'), ...findTests('test')]
  .filter((f) => !only.length || only.some((o) => f.includes(o)))
  .sort();

if (!process.env.CAPTION_SHARED) {
  console.warn('\n*** CAPTION_SHARED is not set: tests that need the shared data sets and test vectors will be SKIPPED.');
  console.warn('*** Set CAPTION_SHARED=/path/to/shared (the folder holding datasets/ and test-vectors/) to run them.\n');
}

let typecheckFailed = 0;
if (!only.length) {
  const tsc = spawnSync(path.join('node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json', '--noEmit'], { stdio: 'inherit' });
  typecheckFailed = tsc.status === 0 ? 0 : 1;
  console.log(typecheckFailed ? 'typecheck: FAILED' : 'typecheck: ok');
}

mkdirSync('.test-results', { recursive: true });
const tap = path.join('.test-results', 'results.tap');
const r = spawnSync(process.execPath, [
  '--import', 'tsx', '--test', '--test-concurrency=1',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=tap', `--test-reporter-destination=${tap}`,
  ...files,
], { stdio: 'inherit', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } });

const text = readFileSync(tap, 'utf8');
const count = (key) => Number((text.match(new RegExp(`^# ${key} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
const passed = count('pass');
const failed = count('fail') + count('cancelled') + typecheckFailed;
const skipped = count('skipped') + count('todo');
const line = `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
writeFileSync(path.join('.test-results', 'summary.txt'), `${line}\n`);
console.log(`\n${line}`);
process.exit(failed || r.status !== 0 ? 1 : 0);
