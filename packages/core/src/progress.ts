/**
 * One progress display for long loops: a bar with rate and ETA on a terminal, and a plain line every
 * `everySeconds` (and at the end) when output is a log (CI, Turbo) — no control characters in logs.
 */
import { SingleBar } from 'cli-progress';

export interface Progress {
  tick(n?: number, extra?: string): void;
  stop(): void;
}

export function createProgress(label: string, total: number, unit: string, opts: { everySeconds?: number } = {}): Progress {
  const started = Date.now();
  let done = 0;
  const rate = () => done / Math.max((Date.now() - started) / 1000, 1e-3);
  const line = (extra = '') => {
    const eta = done ? (total - done) / rate() : NaN;
    return `${label} ${done}/${total} ${unit}, ${rate().toFixed(1)} ${unit}/s, ETA ${Number.isFinite(eta) ? `${eta.toFixed(0)} s` : '?'}${extra ? `, ${extra}` : ''}`;
  };
  if (process.stderr.isTTY && !process.env.CI) {
    const bar = new SingleBar({
      format: `${label} [{bar}] {value}/{total} ${unit} | {rate} ${unit}/s | ETA {eta}s {extra}`,
      stream: process.stderr,
      hideCursor: true,
    });
    bar.start(total, 0, { rate: '0.0', extra: '' });
    return {
      tick(n = 1, extra = '') {
        done += n;
        bar.update(done, { rate: rate().toFixed(1), extra });
      },
      stop: () => bar.stop(),
    };
  }
  const every = (opts.everySeconds ?? 15) * 1000;
  let last = started;
  return {
    tick(n = 1, extra = '') {
      done += n;
      if (Date.now() - last >= every) {
        last = Date.now();
        process.stderr.write(`${line(extra)}\n`);
      }
    },
    stop: () => process.stderr.write(`${line()} (done in ${((Date.now() - started) / 1000).toFixed(1)} s)\n`),
  };
}
