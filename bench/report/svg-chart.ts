/**
 * Throughput vs message size as a hand-written SVG (log-log), one line per transport. No chart
 * library: a few dozen lines of geometry are cheaper than a dependency.
 */
import type { StreamCell } from '../results-model.js';
import { formatBytes } from './units.js';

const WIDTH = 760;
const HEIGHT = 440;
const MARGIN = { left: 70, right: 190, top: 40, bottom: 50 };
const COLORS = ['#d62728', '#ff7f0e', '#1f77b4', '#2ca02c', '#9467bd', '#7f7f7f', '#bcbd22', '#17becf', '#8c564b'];
/** Ceilings are drawn dashed (one copy) or dotted (two copies). */
const DASH = { none: '', memcpy: '6 4', twoCopy: '2 3' } as const;

interface Series {
  name: string;
  dash: string;
  points: { size: number; mbPerSec: number }[];
}

function seriesOf(cells: readonly StreamCell[]): Series[] {
  const byName = new Map<string, Series>();
  for (const cell of cells) {
    if (!Number.isFinite(cell.medianMbPerSec)) continue;
    const ring = cell.ringBytes === null ? '' : ` ${formatBytes(cell.ringBytes)} ring`;
    const name =
      cell.transport === 'unix-socket' ? 'Unix socket'
      : cell.transport === 'unix-socket-unbatched' ? 'Unix socket, 1 write/msg'
      : cell.transport === 'child-ipc' ? 'child_process IPC'
      : cell.transport === 'two-copy' ? `2-copy JS${ring}`
      : cell.transport === 'c-ring' ? `C ring${ring}`
      : cell.transport === 'c-ring-per-message' ? `C ring 1 pub/msg${ring}`
      : cell.transport === 'xenipc-claim' ? `xenipc claim${ring}`
      : `${cell.transport}${ring}`;
    const dash = cell.transport === 'memcpy' ? DASH.memcpy : cell.transport === 'two-copy' || cell.transport.startsWith('c-ring') ? DASH.twoCopy : DASH.none;
    const series = byName.get(name) ?? { name, dash, points: [] };
    series.points.push({ size: cell.size, mbPerSec: cell.medianMbPerSec });
    byName.set(name, series);
  }
  for (const s of byName.values()) s.points.sort((a, b) => a.size - b.size);
  return [...byName.values()];
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

export function renderThroughputSvg(cells: readonly StreamCell[], subtitle: string): string {
  const series = seriesOf(cells);
  const sizes = cells.map((c) => c.size);
  const values = series.flatMap((s) => s.points.map((p) => p.mbPerSec)).filter((v) => v > 0);
  if (sizes.length === 0 || values.length === 0) return '';
  const xMin = Math.log2(Math.min(...sizes));
  const xMax = Math.max(xMin + 1, Math.log2(Math.max(...sizes)));
  const yMin = Math.floor(Math.log10(Math.min(...values)));
  const yMax = Math.ceil(Math.log10(Math.max(...values)));
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (size: number): number => MARGIN.left + ((Math.log2(size) - xMin) / (xMax - xMin)) * plotW;
  const y = (mb: number): number => MARGIN.top + plotH - ((Math.log10(mb) - yMin) / Math.max(1, yMax - yMin)) * plotH;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="20" font-size="15" font-weight="bold">One-way stream throughput vs message size (MB/s, log-log)</text>`,
    `<text x="${MARGIN.left}" y="34" fill="#555">${escape(subtitle)}</text>`,
  ];
  for (let e = yMin; e <= yMax; e++) {
    const yy = y(10 ** e);
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${yy}" y2="${yy}" stroke="#ddd"/>`);
    parts.push(`<text x="${MARGIN.left - 8}" y="${yy + 4}" text-anchor="end">${(10 ** e).toLocaleString('en-US')}</text>`);
  }
  for (const size of [...new Set(sizes)].sort((a, b) => a - b)) {
    const xx = x(size);
    parts.push(`<line x1="${xx}" x2="${xx}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#eee"/>`);
    parts.push(`<text x="${xx}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${formatBytes(size)}</text>`);
  }
  parts.push(`<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 10}" text-anchor="middle">message size</text>`);
  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const path = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${x(p.size).toFixed(1)},${y(p.mbPerSec).toFixed(1)}`).join(' ');
    parts.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="2"${s.dash === '' ? '' : ` stroke-dasharray="${s.dash}"`}/>`);
    for (const p of s.points) parts.push(`<circle cx="${x(p.size).toFixed(1)}" cy="${y(p.mbPerSec).toFixed(1)}" r="3" fill="${color}"/>`);
    const ly = MARGIN.top + 14 + i * 20;
    parts.push(`<line x1="${MARGIN.left + plotW + 12}" x2="${MARGIN.left + plotW + 36}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"${s.dash === '' ? '' : ` stroke-dasharray="${s.dash}"`}/>`);
    parts.push(`<text x="${MARGIN.left + plotW + 42}" y="${ly}">${escape(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
