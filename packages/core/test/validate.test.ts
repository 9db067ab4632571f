import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SchemaObject } from 'ajv';
import { PipelineError } from '../src/errors.ts';
import { validateYaml } from '../src/config/validate.ts';

const schema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string' },
    seed: { type: 'integer', default: 7 },
    train: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        epochs: { type: 'integer', minimum: 1, default: 3 },
        batchSize: { type: 'integer', default: 32 },
        optimizer: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: { lr: { type: 'number', default: 0.001 }, kind: { enum: ['adam', 'sgd'], default: 'adam' } },
        },
      },
    },
    stages: { type: 'array', items: { type: 'object', additionalProperties: false, properties: { id: { type: 'string' } } } },
  },
};

/** The validation error message for `text` (fails the test if it validates). */
function errorOf(text: string): string {
  try {
    validateYaml(text, 'file.yaml', schema);
  } catch (err) {
    assert.ok(err instanceof PipelineError, String(err));
    assert.equal(err.code, 'config');
    return err.message;
  }
  assert.fail('expected a validation error');
}

test('validateYaml: defaults are filled at every depth, given values kept', () => {
  assert.deepEqual(validateYaml('name: demo\n', 'file.yaml', schema), {
    name: 'demo', seed: 7, train: { epochs: 3, batchSize: 32, optimizer: { lr: 0.001, kind: 'adam' } },
  });
  const text = ['name: demo', 'seed: 11', 'train:', '  epochs: 5', '  optimizer:', '    kind: sgd', ''].join('\n');
  assert.deepEqual(validateYaml(text, 'file.yaml', schema), {
    name: 'demo', seed: 11, train: { epochs: 5, batchSize: 32, optimizer: { lr: 0.001, kind: 'sgd' } },
  });
});

const unknownKeyCases: { name: string; lines: string[]; line: number; key: string; allowed: string }[] = [
  {
    name: 'top level',
    lines: ['# demo pipeline', 'name: demo', '', 'sed: 3'],
    line: 4, key: 'sed', allowed: 'name, seed, train, stages',
  },
  {
    name: 'nested, after comments and blank lines',
    lines: ['name: demo', '# training', 'train:', '  epochs: 5', '', '  # the optimiser', '  optimizer:', '    lr: 0.1', '    momentum: 0.9', 'seed: 1'],
    line: 9, key: 'train.optimizer.momentum', allowed: 'lr, kind',
  },
  {
    name: 'second level, key spelled like a real one',
    lines: ['name: demo', 'train:', '  epochs: 5', '  epoch: 5'],
    line: 4, key: 'train.epoch', allowed: 'epochs, batchSize, optimizer',
  },
  {
    name: 'inside an array item',
    lines: ['name: demo', 'stages:', '  - id: a', '  - id: b', '    idd: c'],
    line: 5, key: 'stages.1.idd', allowed: 'id',
  },
  {
    name: 'flow mapping',
    lines: ['name: demo', 'train: {epochs: 2,', '  bogus: 1}'],
    line: 3, key: 'train.bogus', allowed: 'epochs, batchSize, optimizer',
  },
];

for (const c of unknownKeyCases) {
  test(`validateYaml: unknown key (${c.name}) names file:line, dotted path and allowed keys`, () => {
    const msg = errorOf(c.lines.join('\n') + '\n');
    assert.ok(msg.includes(`file.yaml:${c.line}: ${c.key}: unknown key`), msg);
    assert.ok(msg.includes(`(allowed: ${c.allowed})`), msg);
  });
}

const typeCases: { name: string; lines: string[]; line: number; key: string; message: string; found: string }[] = [
  {
    name: 'string for integer',
    lines: ['name: demo', '', 'train:', '  batchSize: 16', '  epochs: "five"'],
    line: 5, key: 'train.epochs', message: 'must be integer', found: '"five"',
  },
  {
    name: 'float for integer',
    lines: ['name: demo', 'train:', '  batchSize: 1.5'],
    line: 3, key: 'train.batchSize', message: 'must be integer', found: '1.5',
  },
  {
    name: 'number below minimum',
    lines: ['name: demo', 'train:', '  epochs: 0'],
    line: 3, key: 'train.epochs', message: 'must be >= 1', found: '0',
  },
  {
    name: 'boolean for string, top level',
    lines: ['# x', 'seed: 1', 'name: true'],
    line: 3, key: 'name', message: 'must be string', found: 'true',
  },
  {
    name: 'enum, three levels down',
    lines: ['name: demo', 'train:', '  optimizer:', '', '    kind: adamw'],
    line: 5, key: 'train.optimizer.kind', message: 'must be one of: adam, sgd', found: '"adamw"',
  },
];

for (const c of typeCases) {
  test(`validateYaml: wrong value (${c.name}) names file:line, key and the value found`, () => {
    const msg = errorOf(c.lines.join('\n') + '\n');
    assert.ok(msg.includes(`file.yaml:${c.line}: ${c.key}: ${c.message} (found ${c.found})`), msg);
  });
}

test('validateYaml: every error is reported, each on its own line', () => {
  const msg = errorOf(['name: 1', 'train:', '  epochs: x', '  batch: 2'].join('\n'));
  const lines = msg.split('\n').slice(1).map((l) => l.trim());
  assert.deepEqual(lines.sort(), [
    'file.yaml:1: name: must be string (found 1)',
    'file.yaml:3: train.epochs: must be integer (found "x")',
    'file.yaml:4: train.batch: unknown key (allowed: epochs, batchSize, optimizer)',
  ]);
});

test('validateYaml: a missing required key is reported', () => {
  assert.match(errorOf('seed: 3\n'), /file\.yaml:1: \(root\): must have required property 'name'/);
});

const syntaxCases: { name: string; text: string; line: number }[] = [
  { name: 'duplicate key', text: 'name: demo\n# c\n\nname: again\n', line: 4 },
  { name: 'tab indentation', text: 'name: demo\ntrain:\n  epochs: 3\n\tbatchSize: 1\n', line: 4 },
  { name: 'mapping items at different columns', text: 'name: demo\ntrain:\n  epochs: 3\n batchSize: 2\n', line: 4 },
  { name: 'reserved character', text: 'name: demo\n\nseed: @foo\n', line: 3 },
  { name: 'unclosed flow sequence, reported where the parser gives up', text: 'name: demo\nseed: 1\ntrain: [1\nx: 2\n', line: 4 },
];

for (const c of syntaxCases) {
  test(`validateYaml: YAML syntax error (${c.name}) reports line ${c.line}`, () => {
    const msg = errorOf(c.text);
    assert.ok(msg.startsWith(`file.yaml:${c.line}: YAML syntax error: `), msg);
    assert.ok(!msg.includes('\n'), 'first line of the parser message only');
  });
}

test('validateYaml: an alias to an unknown anchor is a config error, not a raw ReferenceError', () => {
  const msg = errorOf('name: demo\nseed: *nope\n');
  assert.match(msg, /^file\.yaml: YAML error: .*nope/);
});

test('validateYaml: an empty document validates as {} (so required keys are reported)', () => {
  assert.match(errorOf(''), /must have required property 'name'/);
  assert.deepEqual(validateYaml('', 'file.yaml', { type: 'object', properties: { a: { default: 1 } } }), { a: 1 });
});
