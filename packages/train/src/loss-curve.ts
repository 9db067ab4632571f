/** The training log as a small self-contained SVG (deterministic bytes, opens in any browser). */
import type { EpochLog } from './state.ts';

export function lossCurveSvg(history: EpochLog[], title: string): string {
  const W = 640, H = 360, L = 56, R = 16, T = 32, B = 40;
  // a self-critical epoch's train loss is an advantage-weighted log-likelihood (around 0, either sign), not a
  // cross-entropy: only its dev loss goes on the curve
  const trainLoss = (h: EpochLog) => (h.reward === undefined ? h.loss : NaN);
  const values = history.flatMap((h) => [trainLoss(h), h.dev_loss]).filter(Number.isFinite);
  const max = Math.max(...values, 1e-9) * 1.05;
  const x = (epoch: number) => L + ((epoch - 1) / Math.max(history.length - 1, 1)) * (W - L - R);
  const y = (v: number) => T + (1 - v / max) * (H - T - B);
  const line = (value: (h: EpochLog) => number, colour: string) => {
    const pts = history.filter((h) => Number.isFinite(value(h))).map((h) => `${x(h.epoch).toFixed(1)},${y(value(h)).toFixed(1)}`);
    return pts.length ? `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${pts.join(' ')}"/>` : '';
  };
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const v = max * f;
    return `<line x1="${L}" x2="${W - R}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>` +
      `<text x="${L - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v.toFixed(2)}</text>`;
  });
  const epochs = history.map((h) => `<text x="${x(h.epoch).toFixed(1)}" y="${H - B + 16}" text-anchor="middle">${h.epoch}</text>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="13">${escapeXml(title)}</text>`,
    ...ticks, ...epochs,
    `<text x="${W / 2}" y="${H - 6}" text-anchor="middle">epoch</text>`,
    line(trainLoss, '#1f77b4'), line((h) => h.dev_loss, '#d62728'),
    `<text x="${W - R - 110}" y="${T + 12}" fill="#1f77b4">train loss</text>`,
    `<text x="${W - R - 110}" y="${T + 26}" fill="#d62728">dev loss</text>`,
    '</svg>', '',
  ].join('\n');
}

const escapeXml = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
