import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEMO_IMAGE_DIR, planDemoScenes, writeDemoDataset } from '../src/demo/generate.ts';
import { listImageFiles, probeImages } from '../src/probe.ts';

test('probeImages: facts for good images, a stable reason for each kind of bad one (at any concurrency)', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ingest-probe-'));
  try {
    const opts = { seed: 5, images: 10 };
    await writeDemoDataset(root, opts);
    const ids = planDemoScenes(opts).map((s) => s.imageId);
    const file = (id: string) => path.join(root, DEMO_IMAGE_DIR, id);
    const good = await readFile(file(ids[0]));
    await writeFile(file('half.jpg'), good.subarray(0, good.length >> 1));
    await writeFile(file('empty.jpg'), new Uint8Array(0));
    await writeFile(file('text.jpg'), 'not an image at all\n');
    await copyFile(file(ids[1]), path.join(root, DEMO_IMAGE_DIR, '.hidden.jpg'));

    const wanted = [...ids, 'half.jpg', 'empty.jpg', 'text.jpg', 'missing.jpg', ids[0]]; // duplicate id is probed once
    const expected = {
      'half.jpg': 'corrupt or unsupported image: VipsJpeg: premature end of JPEG image',
      'empty.jpg': 'zero-byte image file',
      'missing.jpg': 'image file missing',
    };
    // libvips reports errors through one process-wide buffer: concurrent decodes must not blur the reasons.
    for (const concurrency of [1, 8, 8, 8, 8]) {
      const probes = await probeImages(root, DEMO_IMAGE_DIR, wanted, concurrency);
      assert.equal(probes.size, ids.length + 4);
      for (const [id, reason] of Object.entries(expected)) {
        assert.deepEqual(probes.get(id), { ok: false, reason }, `${id} at concurrency ${concurrency}`);
      }
      const text = probes.get('text.jpg')!;
      assert.ok(!text.ok && /^corrupt or unsupported image: .*unsupported image format/.test(text.reason), JSON.stringify(text));
      for (const id of ids) {
        const bytes = await readFile(file(id));
        assert.deepEqual(probes.get(id), {
          ok: true, sha256: createHash('sha256').update(bytes).digest('hex'), width: 224, height: 224, format: 'jpeg', bytes: bytes.length,
        });
      }
    }
    // listing: plain files, dot-files skipped, sorted
    assert.deepEqual(await listImageFiles(root, DEMO_IMAGE_DIR), [...ids, 'empty.jpg', 'half.jpg', 'text.jpg'].sort());
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
