/**
 * One progress display for every long loop (ingest probing, feature extraction, training epochs, decoding):
 * `<label> <done>/<total> <unit> (<pct>%), <rate> <unit>/s, ETA <eta>[, <extra>]`.
 * On an interactive terminal that is a redrawn bar; anywhere else (CI, a log file, Turbo — which pipes every
 * task's output) it is a plain line every `everySeconds` plus a closing line, with no control characters.
 */
import { SingleBar } from 'cli-progress';

export interface Progress {
  /** `n` more items processed (`extra`: a short note such as the current loss, shown until the next tick). */
  tick(n?: number, extra?: string): void;
  /** `n` items that needed no work (e.g. reused rows): counted as done but not in the rate or the ETA. */
  skip(n: number): void;
  /** The closing line (once; later calls do nothing). */
  stop(): void;
}

export interface ProgressOptions {
  /** Seconds between plain lines (default 15). */
  everySeconds?: number;
  /** Where to write (default process.stderr: stdout stays free for results). */
  stream?: Pick<NodeJS.WriteStream, 'write'> & { isTTY?: boolean };
  env?: NodeJS.ProcessEnv;
  /** Milliseconds clock (tests). */
  now?: () => number;
}

/** A redrawn bar only for a person at a terminal: never in CI, never when output is piped or TERM=dumb. */
export function useProgressBar(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env.CI !== undefined && !['', '0', 'false'].includes(env.CI.toLowerCase());
  return Boolean(stream.isTTY) && !ci && env.TERM !== 'dumb';
}

export function createProgress(label: string, total: number, unit: string, opts: ProgressOptions = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  const c = counters(label, total, unit, opts.now ?? Date.now);
  // Two views of the same counters: a redrawn bar on a terminal, plain lines (at most every N s) in logs.
  const view = useProgressBar(stream, opts.env) ? barView(c, stream) : lineView(c, stream, opts.everySeconds ?? 15);
  let stopped = false;
  return {
    tick(n = 1, x = '') {
      c.done += n;
      c.extra = x;
      view.update();
    },
    skip(n) {
      c.done += n;
      c.skipped += n;
      view.update();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      view.finish();
    },
  };
}

/** What a progress display shows: the counts so far and what follows from them on the clock `now`. */
function counters(label: string, total: number, unit: string, now: () => number) {
  const c = {
    label, total, unit, now,
    started: now(),
    done: 0,
    skipped: 0,
    extra: '',
    rate: () => (c.done - c.skipped) / Math.max((now() - c.started) / 1000, 1e-3),
    eta: () => {
      const r = c.rate();
      return r > 0 ? duration((total - c.done) / r) : '?';
    },
    pct: () => (total > 0 ? Math.floor((100 * c.done) / total) : 100),
    note: () => (c.extra ? `, ${c.extra}` : ''),
  };
  return c;
}
type Counters = ReturnType<typeof counters>;
type ProgressStream = NonNullable<ProgressOptions['stream']>;

/** On a terminal: one bar, redrawn on every update. */
function barView(c: Counters, stream: ProgressStream) {
  const bar = new SingleBar({
    format: `${c.label} [{bar}] {value}/{total} ${c.unit} ({percentage}%), {rate} ${c.unit}/s, ETA {eta_text}{note}`,
    stream: stream as NodeJS.WriteStream,
    hideCursor: true,
  });
  bar.start(c.total, 0, { rate: '0.0', eta_text: '?', note: '' });
  const update = () => bar.update(c.done, { rate: c.rate().toFixed(1), eta_text: c.eta(), note: c.note() });
  return { update, finish: () => (update(), bar.stop()) };
}

/** Anywhere else: a plain line at most every `everySeconds`, and a closing one. */
function lineView(c: Counters, stream: ProgressStream, everySeconds: number) {
  const every = everySeconds * 1000;
  let last = c.started;
  const write = (line: string) => stream.write(`${printable(line)}\n`);
  const counts = () => `${c.label} ${c.done}/${c.total} ${c.unit} (${c.pct()}%), ${c.rate().toFixed(1)} ${c.unit}/s`;
  return {
    update() {
      if (c.now() - last < every) return;
      last = c.now();
      write(`${counts()}, ETA ${c.eta()}${c.note()}`);
    },
    finish: () => write(`${counts()}, done in ${duration((c.now() - c.started) / 1000)}${c.note()}`),
  };
}

/** 7.4s, 2m05s, 1h02m: short, fixed style for rates and ETAs. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

// Labels and notes come from code and data (image ids, losses); a log line must stay one printable line.
const printable = (line: string) => line.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
