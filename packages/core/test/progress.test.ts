import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProgress, duration, useProgressBar } from '../src/progress.ts';

/** A captured output stream and a hand-moved clock. */
function fixture(isTTY: boolean) {
  const chunks: string[] = [];
  let ms = 1_000_000;
  return {
    chunks,
    stream: { isTTY, write: (s: string) => (chunks.push(s), true) },
    now: () => ms,
    advance: (seconds: number) => (ms += seconds * 1000),
  };
}

test('plain mode: one line per interval (not per tick), a closing line, printable characters only', () => {
  const f = fixture(false);
  const p = createProgress('[features] extracting', 100, 'images', { everySeconds: 10, stream: f.stream, now: f.now, env: {} });
  for (let i = 0; i < 20; i++) {
    f.advance(1);
    p.tick(2, 'loss 1.5\u001b[31m\r'); // control characters in a note must not reach the log
  }
  p.stop();
  p.stop(); // idempotent
  assert.equal(f.chunks.length, 3, f.chunks.join(''));
  assert.deepEqual(f.chunks.map((c) => c.endsWith('\n') && c.indexOf('\n') === c.length - 1), [true, true, true]);
  for (const c of f.chunks) assert.match(c.slice(0, -1), /^[\x20-\x7e]+$/, JSON.stringify(c));
  // After 10 s: 20 of 100 done at 2/s -> 40 s left.
  assert.match(f.chunks[0], /^\[features\] extracting 20\/100 images \(20%\), 2\.0 images\/s, ETA 40\.0s, loss 1\.5/);
  assert.match(f.chunks[1], /^\[features\] extracting 40\/100 images \(40%\), 2\.0 images\/s, ETA 30\.0s, /);
  assert.match(f.chunks[2], /^\[features\] extracting 40\/100 images \(40%\), 2\.0 images\/s, done in 20\.0s, loss 1\.5/);
});

test('plain mode: skipped (reused) items count as done but not in the rate', () => {
  const f = fixture(false);
  const p = createProgress('[features] extracting', 1000, 'images', { everySeconds: 5, stream: f.stream, now: f.now, env: {} });
  p.skip(900);
  f.advance(5);
  p.tick(10);
  assert.match(f.chunks[0], /^\[features\] extracting 910\/1000 images \(91%\), 2\.0 images\/s, ETA 45\.0s$/m);
});

test('a terminal gets the bar, except in CI or with TERM=dumb; pipes never do', () => {
  assert.equal(useProgressBar({ isTTY: true }, {}), true);
  assert.equal(useProgressBar({ isTTY: true }, { CI: 'true' }), false);
  assert.equal(useProgressBar({ isTTY: true }, { CI: '1' }), false);
  assert.equal(useProgressBar({ isTTY: true }, { CI: 'false' }), true);
  assert.equal(useProgressBar({ isTTY: true }, { TERM: 'dumb' }), false);
  assert.equal(useProgressBar({ isTTY: false }, {}), false);
  assert.equal(useProgressBar({}, {}), false);
});

test('with CI set, a TTY stream still gets plain lines (no cursor movement, no bar)', () => {
  const f = fixture(true);
  const p = createProgress('[train] epoch 1/2', 10, 'captions', { everySeconds: 1, stream: f.stream, now: f.now, env: { CI: 'true' } });
  f.advance(2);
  p.tick(5, 'loss 2.000');
  p.stop();
  assert.equal(f.chunks.length, 2);
  for (const c of f.chunks) assert.match(c, /^\[train\] epoch 1\/2 \d+\/10 captions [\x20-\x7e]+\n$/);
});

test('duration: short fixed style', () => {
  assert.equal(duration(7.44), '7.4s');
  assert.equal(duration(125), '2m05s');
  assert.equal(duration(3720), '1h02m');
  assert.equal(duration(Infinity), '?');
});
