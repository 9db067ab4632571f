import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineError } from '../src/errors.ts';
import { expandEnv } from '../src/config/env.ts';

const env = { DATA: '/mnt/data', USER_1: 'ann', _X: 'x', EMPTY: '' };

const cases: [string, string][] = [
  ['${DATA}/flickr8k', '/mnt/data/flickr8k'],
  ['${DATA}/${USER_1}/${_X}', '/mnt/data/ann/x'],
  ['${DATA}${DATA}', '/mnt/data/mnt/data'],
  ['no variables here', 'no variables here'],
  ['$DATA and ${ DATA } and $(DATA) are left alone', '$DATA and ${ DATA } and $(DATA) are left alone'],
  ['${1ABC} is not a name', '${1ABC} is not a name'],
  ['', ''],
];
for (const [input, expected] of cases) {
  test(`expandEnv(${JSON.stringify(input)})`, () => {
    assert.equal(expandEnv(input, env), expected);
  });
}

test('expandEnv: a substituted value is not expanded again', () => {
  assert.equal(expandEnv('${A}', { A: '${B}', B: 'no' }), '${B}');
});

for (const name of ['MISSING_VAR', 'EMPTY']) {
  test(`expandEnv: \${${name}} (${name === 'EMPTY' ? 'set but empty' : 'unset'}) throws PipelineError(config) naming it`, () => {
    const value = `\${DATA}/\${${name}}/x`;
    assert.throws(() => expandEnv(value, env), (err: unknown) => {
      assert.ok(err instanceof PipelineError);
      assert.equal(err.code, 'config');
      assert.ok(err.message.includes(`environment variable ${name} is not set`), err.message);
      assert.ok(err.message.includes(value), err.message);
      return true;
    });
  });
}

test('expandEnv: reads process.env by default', () => {
  const key = `CAPTION_TEST_${process.pid}`;
  process.env[key] = 'from-process';
  try {
    assert.equal(expandEnv(`\${${key}}/a`), 'from-process/a');
  } finally {
    delete process.env[key];
  }
  assert.throws(() => expandEnv(`\${${key}}`), { name: 'PipelineError' });
});
