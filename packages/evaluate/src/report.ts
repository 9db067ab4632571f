/** The BLEU report as Markdown (what `caption run` prints) and as JSON. */
import type { BleuReport } from './transform.ts';

const f = (x: number) => x.toFixed(4);

export function reportMarkdown(r: BleuReport, meta: { pipeline: string; split: string; decoder: string; backbone: string; decoding?: string }): string {
  const row = (name: string, b: number[]) => `| ${name} | ${b.map(f).join(' | ')} |`;
  const delta = r.bleu.map((b, i) => b - r.baseline.bleu[i]);
  return [
    `# BLEU report — pipeline \`${meta.pipeline}\``,
    '',
    `${r.images} ${meta.split} images, ${meta.decoder} decoder on ${meta.backbone} features, ${meta.decoding ?? 'greedy decoding'}.`,
    'Corpus BLEU with coco-caption semantics (closest reference length), on standardised text.',
    '',
    '| system | BLEU-1 | BLEU-2 | BLEU-3 | BLEU-4 |',
    '|---|---|---|---|---|',
    row('model', r.bleu),
    row(`constant: "${r.baseline.caption}"`, r.baseline.bleu),
    row('model − constant', delta),
    '',
    '## Sample predictions',
    '',
    ...r.samples.flatMap((s) => [`- **${s.image_id}**: ${s.prediction || '(empty)'}`, ...s.references.map((ref) => `  - ref: ${ref}`)]),
    '',
  ].join('\n');
}
