/**
 * report.html: one self-contained page (inline CSS and SVG, images as data: URIs, a CSP that forbids any
 * request) — metrics against the constant caption (and, in `caption run`'s copy, the previous run), the loss
 * curves, a gallery with attention maps, and the best and worst images by CIDEr-D. Pure: the pictures come in
 * already encoded.
 */
import type { PreviousRun } from './previous-run.ts';
import { metricRows, previousNote, type ReportMeta } from './report.ts';
import { METRIC_LABELS, METRICS, type EvaluationReport } from './transform.ts';

export interface HtmlReportInput {
  report: EvaluationReport;
  meta: ReportMeta;
  lossCurveSvg?: string;                                   // the train artifact's loss-curve.svg
  references: Map<string, string[]>;                       // shown under each pictured image
  thumbnails: Map<string, string>;                         // image id -> data: URI
  attention: Map<string, { word: string; uri: string }[]>; // gallery image id -> one panel per emitted word
}

export const EXTREMES = 5; // best and worst images shown

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const num = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(4));

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1180px;padding:0 16px;color:#222}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}
table.metrics{border-collapse:collapse;font-variant-numeric:tabular-nums}
.metrics th,.metrics td{border:1px solid #ccc;padding:4px 10px;text-align:right}
.metrics th:first-child,.metrics td:first-child{text-align:left;max-width:420px}
.metrics tr.delta td{font-style:italic}.pos{color:#1a7f37}.neg{color:#cf222e}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:16px}
.card{border:1px solid #ddd;border-radius:6px;padding:10px}.card img.photo{display:block;max-width:100%;margin-bottom:6px}
.card .id{font:12px monospace;color:#666}.card .pred{font-weight:600}.card ul{margin:4px 0 0;padding-left:18px;color:#555}
.attn{display:flex;flex-wrap:wrap;gap:4px;margin-top:8px}.attn figure{margin:0;text-align:center;font-size:12px}
.attn img{display:block;width:112px;height:112px}.missing{color:#cf222e;font-style:italic}
.note{color:#555}`;

export function reportHtml(input: HtmlReportInput): string {
  const { report: r, meta } = input;
  const title = `Evaluation report — pipeline ${meta.pipeline}`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title><style>${CSS}</style></head><body>`,
    `<h1>${esc(title)}</h1>`,
    `<p>${r.images} ${esc(meta.split)} images, <b>${esc(meta.decoder)}</b> decoder on ${esc(meta.backbone)} features, ${esc(meta.decoding ?? 'greedy decoding')}.`,
    ' Corpus BLEU-1..4, CIDEr-D and ROUGE-L with coco-caption semantics, on PTB-tokenized lowercase text without punctuation.</p>',
    '<h2>Metrics</h2>',
    metricsTableHtml(r),
    `<p class="note" id="previous">${esc(previousNote(undefined, false).replace(/`/g, ''))}</p>`,
    '<h2>Loss curves</h2>',
    input.lossCurveSvg?.trimStart().startsWith('<svg') ? `<div class="loss">${input.lossCurveSvg}</div>` : '<p class="missing">No loss curve in the train artifact.</p>',
    `<h2>Gallery (${r.samples.length} ${esc(meta.split)} images)</h2>`,
    cards(input, r.samples.map((s) => s.image_id), true),
    ...extremes(input),
    '</body></html>',
    '',
  ].join('\n');
}

/** The previous-run note of `caption run`'s copy of the page. */
export const previousNoteHtml = (previous: PreviousRun | undefined) =>
  `<p class="note" id="previous">${esc(previousNote(previous, true).replace(/`/g, ''))}</p>`;

export function metricsTableHtml(r: EvaluationReport, previous?: PreviousRun): string {
  const rows = metricRows(r, previous);
  const head = `<tr><th>system</th>${METRICS.map((m) => `<th>${METRIC_LABELS[m]}</th>`).join('')}</tr>`;
  const body = rows.map((row) => {
    const delta = row.key.includes('-');
    const cells = row.values.map((v, i) => {
      const cls = delta && v !== undefined && v !== 0 ? ` class="${v > 0 ? 'pos' : 'neg'}"` : '';
      return `<td data-metric="${METRICS[i]}"${cls}>${delta && v !== undefined && v > 0 ? '+' : ''}${num(v)}</td>`;
    }).join('');
    return `<tr data-row="${row.key}"${delta ? ' class="delta"' : ''}><td>${esc(row.name.replace(/`/g, ''))}</td>${cells}</tr>`;
  });
  return `<table class="metrics" id="metrics">${head}\n${body.join('\n')}</table>`;
}

/** The best and the worst (worst first) images by per-image CIDEr-D; ties by image id, so the pick is stable. */
export function extremeImages(report: EvaluationReport, n = EXTREMES): { best: string[]; worst: string[] } {
  const ranked = [...report.perImage].sort((a, b) => b.ciderD - a.ciderD || (a.image_id < b.image_id ? -1 : 1)).map((p) => p.image_id);
  return { best: ranked.slice(0, n), worst: ranked.slice(-n).reverse() };
}

function extremes(input: HtmlReportInput): string[] {
  const { best, worst } = extremeImages(input.report);
  return [
    `<h2>Best ${best.length} by CIDEr-D</h2>`, cards(input, best, false),
    `<h2>Worst ${worst.length} by CIDEr-D</h2>`, cards(input, worst, false),
  ];
}

function cards(input: HtmlReportInput, ids: string[], withAttention: boolean): string {
  const scores = new Map(input.report.perImage.map((p) => [p.image_id, p]));
  const html = ids.map((id) => {
    const s = scores.get(id);
    const thumb = input.thumbnails.get(id);
    const panels = withAttention ? input.attention.get(id) ?? [] : [];
    return [
      '<div class="card">',
      thumb ? `<img class="photo" src="${thumb}" alt="${esc(id)}">` : `<p class="missing">image not found: ${esc(id)}</p>`,
      `<div class="id">${esc(id)}${s ? ` · CIDEr-D ${num(s.ciderD)} · BLEU-4 ${num(s.bleu[3])} · ROUGE-L ${num(s.rougeL)}` : ''}</div>`,
      `<div class="pred">${esc(s?.prediction || '(empty)')}</div>`,
      `<ul>${(input.references.get(id) ?? []).map((ref) => `<li>${esc(ref)}</li>`).join('')}</ul>`,
      panels.length
        ? `<div class="attn">${panels.map((p) => `<figure><img src="${p.uri}" alt="attention for ${esc(p.word)}"><figcaption>${esc(p.word)}</figcaption></figure>`).join('')}</div>`
        : '',
      '</div>',
    ].join('');
  });
  return `<div class="cards">${html.join('\n')}</div>`;
}
