/** The entry point's exit: everything written to stdout reaches a pipe before the process exits. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '../src/main.ts');

test('runMain: 3 MB written to a piped stdout all arrive, for a success and for an error exit', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'core-main-'));
  try {
    for (const [fail, code] of [[false, 0], [true, 1]] as const) {
      const script = path.join(dir, `child-${fail}.mts`);
      fs.writeFileSync(script, `import { runMain } from ${JSON.stringify(MAIN)};
        runMain(async () => { process.stdout.write('x'.repeat(3_000_000)); ${fail ? "throw new Error('boom');" : ''} });`);
      const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', maxBuffer: 64 << 20 });
      assert.equal(r.status, code, r.stderr);
      assert.equal(r.stdout.length, 3_000_000, 'stdout cut off at exit');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
