/** `caption diff <runA> <runB>`: params that differ and every metric side by side, with B − A deltas. */
import { PipelineError, STAGES } from '@caption/core';
import { paramChanges, show } from '../params-diff.ts';
import { METRICS, findRun, listRuns, type RunRecord } from '../runs-history.ts';
import { fixed, seconds, signed, textTable } from '../text-table.ts';
import type { Command } from '../command.ts';

export interface RunDiff {
  a: string;
  b: string;
  params: { path: string; a: unknown; b: unknown }[];
  metrics: { metric: string; a?: number; b?: number; delta?: number }[];
  stages: { stage: string; a?: { cache: string; wallMs?: number }; b?: { cache: string; wallMs?: number } }[];
}

export const diffCommand: Command = {
  name: 'diff',
  summary: 'compare two recorded runs: changed params and metrics side by side with deltas\n' +
    'runs are named by id (0003-demo), number (3), latest or latest~N; default: latest~1 latest',
  usage: 'caption diff [<runA> <runB>] [--json]',
  options: {
    json: { type: 'boolean', description: 'print the comparison as JSON' },
  },
  async run({ positionals, values }) {
    if (positionals.length !== 0 && positionals.length !== 2) throw new PipelineError('usage', 'diff takes two runs (or none: latest~1 latest)');
    const [refA, refB] = positionals.length ? positionals : ['latest~1', 'latest'];
    const runs = await listRuns();
    const d = diffRuns(findRun(runs, refA), findRun(runs, refB));
    process.stdout.write(values.json ? `${JSON.stringify(d, null, 2)}\n` : formatDiff(d));
  },
};

export function diffRuns(a: RunRecord, b: RunRecord): RunDiff {
  return {
    a: a.id,
    b: b.id,
    params: paramChanges(a.params, b.params).map((c) => ({ path: c.path, a: c.before, b: c.after })),
    metrics: Object.keys(METRICS)
      .filter((m) => a.metrics[m] !== undefined || b.metrics[m] !== undefined)
      .map((m) => {
        const [va, vb] = [a.metrics[m], b.metrics[m]];
        return { metric: METRICS[m], a: va, b: vb, ...(va !== undefined && vb !== undefined ? { delta: vb - va } : {}) };
      }),
    stages: STAGES.map((s) => ({ stage: s, a: a.stages[s] && pick(a.stages[s]!), b: b.stages[s] && pick(b.stages[s]!) })),
  };
}

const pick = (s: { cache: string; wallMs?: number }) => ({ cache: s.cache, ...(s.wallMs !== undefined ? { wallMs: s.wallMs } : {}) });

export function formatDiff(d: RunDiff): string {
  const params = d.params.length
    ? textTable(['param', d.a, d.b], d.params.map((p) => [p.path, show(p.a), show(p.b)]))
    : 'no param differs\n';
  const metrics = d.metrics.length
    ? textTable(['metric', d.a, d.b, 'delta'], d.metrics.map((m) => [m.metric, fixed(m.a), fixed(m.b), signed(m.delta)]))
    : 'no metrics recorded\n';
  const stage = (s?: { cache: string; wallMs?: number }) => (s ? `${s.cache} ${seconds(s.wallMs)}` : '-');
  const stages = textTable(['stage', d.a, d.b], d.stages.map((s) => [s.stage, stage(s.a), stage(s.b)]));
  return `${params}\n${metrics}\n${stages}`;
}
