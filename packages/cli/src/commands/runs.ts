/** `caption runs`: the recorded runs, oldest first (table or --json). */
import { PipelineError } from '@caption/core';
import { flatParams, show } from '../params-diff.ts';
import { METRICS, listRuns, type RunRecord } from '../runs-history.ts';
import { fixed, seconds, textTable } from '../text-table.ts';
import type { Command } from '../command.ts';

/** Always shown: what most experiments vary. Other params join them when they differ between the listed runs. */
const KEY_PARAMS = ['features.backbone', 'train.decoder', 'train.epochs'];
const MAX_KEY_PARAMS = 6;

export const runsCommand: Command = {
  name: 'runs',
  summary: 'list the recorded runs (.caption/runs/): id, pipeline, when, key params, BLEU-4/CIDEr-D, wall time, cache hits',
  usage: 'caption runs [--pipeline <name>] [--json]',
  options: {
    pipeline: { type: 'string', description: 'only runs of this pipeline (its `name`)' },
    json: { type: 'boolean', description: 'print the run records as JSON' },
  },
  async run({ positionals, values }) {
    if (positionals.length !== 0) throw new PipelineError('usage', 'runs takes no positional arguments');
    const runs = (await listRuns()).filter((r) => !values.pipeline || r.pipeline === values.pipeline);
    if (values.json) {
      process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
      return;
    }
    if (!runs.length) {
      process.stdout.write('no runs recorded yet (`caption run <pipeline.yaml>` records one)\n');
      return;
    }
    process.stdout.write(runsTable(runs));
  },
};

export function runsTable(runs: RunRecord[]): string {
  const keys = keyParams(runs);
  const flat = runs.map((r) => flatParams(r.params));
  const metrics = ['bleu4', 'ciderD'].filter((m) => runs.some((r) => r.metrics[m] !== undefined));
  const headers = ['id', 'pipeline', 'when (UTC)', 'params', ...metrics.map((m) => METRICS[m]), 'wall', 'cached'];
  const rows = runs.map((r, i) => {
    const stages = Object.values(r.stages);
    return [
      r.ok ? r.id : `${r.id} (failed)`,
      r.pipeline,
      r.startedAt.slice(0, 16).replace('T', ' '),
      keys.map((k) => `${shortName(k, keys)}=${show(flat[i].get(k))}`).join(' '),
      ...metrics.map((m) => fixed(r.metrics[m])),
      seconds(r.wallMs),
      `${stages.filter((s) => s?.cache === 'HIT').length}/${stages.length}`,
    ];
  });
  return textTable(headers, rows);
}

/** KEY_PARAMS, plus (in pipeline order) params whose value differs between the runs; fingerprints left out. */
function keyParams(runs: RunRecord[]): string[] {
  const flat = runs.map((r) => flatParams(r.params));
  const varying = [...new Set(flat.flatMap((f) => [...f.keys()]))]
    .filter((k) => !KEY_PARAMS.includes(k) && k !== 'name' && !k.includes('.inputs.'))
    .filter((k) => new Set(flat.map((f) => JSON.stringify(f.get(k)))).size > 1);
  return [...KEY_PARAMS, ...varying].slice(0, MAX_KEY_PARAMS);
}

/** `epochs` for train.epochs unless another shown param ends the same way (tokenize/evaluate.maxLength). */
function shortName(key: string, keys: string[]): string {
  const leaf = key.split('.').pop()!;
  return keys.filter((k) => k.split('.').pop() === leaf).length > 1 ? key : leaf;
}
