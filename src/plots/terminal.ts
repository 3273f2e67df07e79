import { minMaxDownsample, type Point } from './downsample.js';
import type { Bar } from './bar-chart.js';
import type { LineSeries } from './line-chart.js';
import type { ScatterPoint } from './scatter-chart.js';
import { extent, formatValue, scale } from './ticks.js';

/**
 * Charts for a terminal: lines and dots drawn in braille characters (2×4 dots per cell), bars in
 * block characters with eighths. Colours are ANSI foreground codes, one per series, when asked for.
 */

export interface TerminalOptions {
  /** Columns the chart may use, labels included. */
  width: number;
  /** Rows of the plot area (line and scatter charts). */
  height?: number;
  color?: boolean;
}

const ANSI = [34, 33, 32, 31, 35, 36, 90, 93, 95, 96];
const BITS = [
  [0x01, 0x08],
  [0x02, 0x10],
  [0x04, 0x20],
  [0x40, 0x80],
];

function paint(s: string, series: number, color: boolean | undefined): string {
  return color && series >= 0 ? `\x1b[${ANSI[series % ANSI.length]}m${s}\x1b[0m` : s;
}

/** A grid of braille cells; each cell remembers the last series that set a dot in it. */
class BrailleCanvas {
  private readonly bits: Uint8Array;
  private readonly owner: Int16Array;
  constructor(readonly cols: number, readonly rows: number) {
    this.bits = new Uint8Array(cols * rows);
    this.owner = new Int16Array(cols * rows).fill(-1);
  }
  get dotsWide(): number {
    return this.cols * 2;
  }
  get dotsHigh(): number {
    return this.rows * 4;
  }
  set(x: number, y: number, series: number): void {
    [x, y] = [Math.round(x), Math.round(y)];
    if (x < 0 || y < 0 || x >= this.dotsWide || y >= this.dotsHigh) return;
    const cell = (y >> 2) * this.cols + (x >> 1);
    this.bits[cell]! |= BITS[y & 3]![x & 1]!;
    this.owner[cell] = series;
  }
  /** A straight line of dots between two points (Bresenham). */
  line(x0: number, y0: number, x1: number, y1: number, series: number): void {
    [x0, y0, x1, y1] = [x0, y0, x1, y1].map(Math.round) as [number, number, number, number];
    const [dx, dy] = [Math.abs(x1 - x0), -Math.abs(y1 - y0)];
    const [sx, sy] = [x0 < x1 ? 1 : -1, y0 < y1 ? 1 : -1];
    let err = dx + dy;
    for (;;) {
      this.set(x0, y0, series);
      if (x0 === x1 && y0 === y1) return;
      const e2 = 2 * err;
      if (e2 >= dy) [err, x0] = [err + dy, x0 + sx];
      if (e2 <= dx) [err, y0] = [err + dx, y0 + sy];
    }
  }
  /** One row of cells; neighbouring cells of one series share one colour code. */
  row(r: number, color: boolean | undefined): string {
    let s = '';
    let run = '';
    let owner = -1;
    for (let c = 0; c < this.cols; c++) {
      const i = r * this.cols + c;
      const o = this.bits[i] ? this.owner[i]! : -1;
      if (o !== owner) [s, run, owner] = [s + paint(run, owner, color), '', o];
      run += this.bits[i] ? String.fromCharCode(0x2800 + this.bits[i]!) : ' ';
    }
    return s + paint(run, owner, color);
  }
}

/** The canvas framed by a y axis (top, middle and bottom values) and an x axis (first and last x). */
function framed(canvas: BrailleCanvas, y: [number, number], x: [number, number], color: boolean | undefined): string[] {
  const yLabels = new Map([
    [0, formatValue(y[1])],
    [Math.floor((canvas.rows - 1) / 2), formatValue((y[0] + y[1]) / 2)],
    [canvas.rows - 1, formatValue(y[0])],
  ]);
  const pad = Math.max(...[...yLabels.values()].map((l) => l.length));
  const lines: string[] = [];
  for (let r = 0; r < canvas.rows; r++) lines.push(`${(yLabels.get(r) ?? '').padStart(pad)} ${yLabels.has(r) ? '┤' : '│'}${canvas.row(r, color)}`);
  lines.push(`${' '.repeat(pad)} └${'─'.repeat(canvas.cols)}`);
  const [first, last] = [formatValue(x[0]), formatValue(x[1])];
  lines.push(`${' '.repeat(pad + 2)}${first}${last.padStart(Math.max(1, canvas.cols - first.length))}`);
  return lines;
}

function canvasFor(opts: TerminalOptions, labelWidth: number): BrailleCanvas {
  return new BrailleCanvas(Math.max(10, opts.width - labelWidth - 2), Math.max(3, opts.height ?? 12));
}

function legendLines(names: string[], color: boolean | undefined): string[] {
  return names.length > 1 ? names.map((n, i) => `${paint('━━', i, color)} ${n}`) : [];
}

/** Widest label among the values a y axis over `lo..hi` prints. */
function yLabelWidth(lo: number, hi: number): number {
  return Math.max(formatValue(lo).length, formatValue(hi).length, formatValue((lo + hi) / 2).length);
}

export function terminalLineChart(title: string, series: LineSeries[], opts: TerminalOptions): string[] {
  // Downsampled first: the extents of the kept points are those of the whole series (ends, minima, maxima).
  const width = canvasFor(opts, 0).dotsWide;
  const kept: Point[][] = series.map((s) => minMaxDownsample(s.points, width));
  const all = kept.flat();
  if (all.length === 0) return [title, '  (no data)'];
  const [x, y] = [extent(all.map((p) => p[0])), extent(all.map((p) => p[1]))];
  const canvas = canvasFor(opts, yLabelWidth(...y));
  const sx = scale(x[0], x[1], 0, canvas.dotsWide - 1);
  const sy = scale(y[0], y[1], canvas.dotsHigh - 1, 0);
  kept.forEach((pts, i) => {
    if (pts.length === 1) canvas.set(sx(pts[0]![0]), sy(pts[0]![1]), i);
    for (let j = 1; j < pts.length; j++) canvas.line(sx(pts[j - 1]![0]), sy(pts[j - 1]![1]), sx(pts[j]![0]), sy(pts[j]![1]), i);
  });
  return [title, ...framed(canvas, y, x, opts.color), ...legendLines(series.map((s) => s.name), opts.color)];
}

export function terminalScatterChart(title: string, points: ScatterPoint[], opts: TerminalOptions): string[] {
  const finite = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  if (finite.length === 0) return [title, '  (no data)'];
  const groups = [...new Set(finite.map((p) => p.group))];
  const [x, y] = [extent(finite.map((p) => p.x)), extent(finite.map((p) => p.y))];
  const canvas = canvasFor(opts, yLabelWidth(...y));
  const sx = scale(x[0], x[1], 0, canvas.dotsWide - 1);
  const sy = scale(y[0], y[1], canvas.dotsHigh - 1, 0);
  // A 2×2 block of dots per point: one braille dot is hard to see.
  for (const p of finite) {
    const [px, py, g] = [sx(p.x), sy(p.y), groups.indexOf(p.group)];
    for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) canvas.set(Math.min(px + dx, canvas.dotsWide - 1), Math.min(py + dy, canvas.dotsHigh - 1), g);
  }
  return [title, ...framed(canvas, y, x, opts.color), ...legendLines(groups, opts.color)];
}

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** One row per bar: label, a bar of block characters proportional to |value|, and the value. */
export function terminalBarChart(title: string, bars: Bar[], opts: TerminalOptions): string[] {
  if (bars.length === 0) return [title, '  (no data)'];
  const labelWidth = Math.min(30, Math.max(...bars.map((b) => b.label.length)));
  const values = bars.map((b) => formatValue(b.value));
  const valueWidth = Math.max(...values.map((v) => v.length));
  const room = Math.max(10, opts.width - labelWidth - valueWidth - 2);
  const top = Math.max(...bars.map((b) => (Number.isFinite(b.value) ? Math.abs(b.value) : 0)));
  return [
    title,
    ...bars.map((b, i) => {
      const label = b.label.length > labelWidth ? `${b.label.slice(0, labelWidth - 1)}…` : b.label.padEnd(labelWidth);
      const eighths = top > 0 && Number.isFinite(b.value) ? Math.round((Math.abs(b.value) / top) * room * 8) : 0;
      const bar = '█'.repeat(eighths >> 3) + EIGHTHS[eighths & 7];
      return `${label} ${paint(bar, b.value < 0 ? 3 : 0, opts.color)}${' '.repeat(room - Math.ceil(eighths / 8))} ${values[i]}`.trimEnd();
    }),
  ];
}
