/** The `caption` CLI as users call it: usage errors, YAML errors with line numbers, resolve output. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from './helpers/workspace.ts';

function caption(args: string[], root?: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'packages/cli/src/main.ts'), ...args], {
    cwd: REPO, encoding: 'utf8', env: { ...process.env, CAPTION_ROOT: root ?? '' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const usageCases: [string, string[], RegExp][] = [
  ['no command', [], /usage: caption <command>/],
  ['unknown command', ['frobnicate'], /unknown command 'frobnicate'[\s\S]*usage: caption <command>/],
  ['unknown flag', ['run', 'pipelines/demo.yaml', '--fast'], /Unknown option '--fast'[\s\S]*usage: caption run/],
  ['missing pipeline argument', ['run'], /exactly one pipeline file/],
  ['missing pipeline file', ['resolve', 'pipelines/nope.yaml'], /pipeline file not found/],
];
for (const [name, args, pattern] of usageCases) {
  test(`cli: ${name} prints usage and exits 2`, () => {
    const r = caption(args);
    assert.equal(r.code, 2);
    assert.match(r.out + r.err, pattern);
  });
}

test('cli: --help prints a command usage and exits 0', () => {
  const r = caption(['run', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.out, /usage: caption run <pipeline.yaml>[\s\S]*--force/);
});

test('cli: an unknown key and a wrong type are reported with their YAML line', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'caption-cli-'));
  try {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, ['name: bad', 'train:', '  epoch: 3', 'features:', '  batchSize: many', ''].join('\n'));
    const r = caption(['resolve', file], dir);
    assert.equal(r.code, 1);
    assert.match(r.err, /bad\.yaml:3: train\.epoch: unknown key \(allowed: .*epochs/);
    assert.match(r.err, /bad\.yaml:5: features\.batchSize: must be integer \(found "many"\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cli: resolve writes one params file per stage with defaults filled in', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'caption-cli-'));
  try {
    writeFileSync(path.join(dir, 'pnpm-workspace.yaml'), '');
    const file = path.join(dir, 'p.yaml');
    writeFileSync(file, 'name: p\nseed: 5\ntrain:\n  epochs: 3\n');
    const r = caption(['resolve', file], dir);
    assert.equal(r.code, 0, r.err);
    const train = JSON.parse(readFileSync(path.join(dir, '.caption/params/train.json'), 'utf8'));
    assert.equal(train.params.epochs, 3);
    assert.equal(train.params.decoder, 'attention-gru');
    assert.equal(train.seed, 5);
    const ingest = JSON.parse(readFileSync(path.join(dir, '.caption/params/ingest.json'), 'utf8'));
    assert.equal(ingest.params.dataset, 'demo');
    // Unchanged YAML -> no params file rewritten (so Turbo's input hashes stay put).
    assert.match(caption(['resolve', file], dir).out, /no changes/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cli: enum errors list the allowed values; values that make a run meaningless are refused', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cli-meaningless-'));
  try {
    const file = path.join(dir, 'x.yaml');
    writeFileSync(file, 'name: x\nfeatures: { backbone: resnet50 }\ntokenize: { vocabSize: 1 }\ningest: { splitFractions: { train: 0, dev: 0.5, test: 0.5 } }\n');
    const r = caption(['resolve', file], dir);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /x\.yaml:2: features\.backbone: must be one of: mobilenet_v2, inception_v3, inception_v3_pooled, efficientnet_b0, vgg16, centernet \(found "resnet50"\)/);
    assert.match(r.err, /x\.yaml:3: tokenize\.vocabSize: must be >= 10 \(found 1\)/);
    assert.match(r.err, /x\.yaml:4: ingest\.splitFractions\.train: must be > 0 \(found 0\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
