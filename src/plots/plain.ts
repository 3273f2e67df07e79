import type { Bar } from './bar-chart.js';
import type { LineSeries } from './line-chart.js';
import type { ScatterPoint } from './scatter-chart.js';
import { formatValue } from './ticks.js';

/** What a chart shows, as aligned text, for output that is not a terminal (a pipe, a log, a file). */

function columns(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((v, c) => (c === r.length - 1 ? v : v.padEnd(widths[c]!))).join('  ').trimEnd());
}

/** Per series: how many steps, the first and last step, and the first, lowest, highest and last value. */
export function plainLineSummary(title: string, series: LineSeries[]): string[] {
  const rows = [['series', 'steps', 'from', 'to', 'first', 'min', 'max', 'last']];
  for (const s of series) {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (pts.length === 0) {
      rows.push([s.name, '0', '', '', '', '', '', '']);
      continue;
    }
    let [lo, hi] = [pts[0]![1], pts[0]![1]];
    for (const [, y] of pts) [lo, hi] = [Math.min(lo, y), Math.max(hi, y)];
    const f = formatValue;
    rows.push([s.name, String(pts.length), f(pts[0]![0]), f(pts.at(-1)![0]), f(pts[0]![1]), f(lo), f(hi), f(pts.at(-1)![1])]);
  }
  return [title, ...columns(rows).map((l) => `  ${l}`)];
}

export function plainBars(title: string, bars: Bar[]): string[] {
  return [title, ...columns(bars.map((b) => [b.label, formatValue(b.value)])).map((l) => `  ${l}`)];
}

export function plainScatter(title: string, xLabel: string, yLabel: string, points: ScatterPoint[]): string[] {
  return [title, ...columns([['run', xLabel, yLabel], ...points.map((p) => [p.label, formatValue(p.x), formatValue(p.y)])]).map((l) => `  ${l}`)];
}
