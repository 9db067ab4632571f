/** The derived-files cache: built once, read back verified, rebuilt when the bytes on disk are not what was written. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cacheDir, cached } from '../src/io/cache.ts';

test('cached: builds once, then reads; a corrupted entry is rebuilt, not used', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'core-cache-'));
  try {
    let builds = 0;
    const build = () => (builds++, new TextEncoder().encode('graph bytes'));
    assert.equal(new TextDecoder().decode(await cached('onnx/x.onnx', build, root)), 'graph bytes');
    assert.equal(new TextDecoder().decode(await cached('onnx/x.onnx', build, root)), 'graph bytes');
    assert.equal(builds, 1);
    fs.writeFileSync(path.join(cacheDir(root), 'onnx/x.onnx'), 'graph bytez'); // same size, other bytes
    assert.equal(new TextDecoder().decode(await cached('onnx/x.onnx', build, root)), 'graph bytes');
    assert.equal(builds, 2);
    assert.deepEqual(fs.readdirSync(path.join(cacheDir(root), 'onnx')).sort(), ['x.onnx', 'x.onnx.sha256']);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
