import { seriesStyle } from './palette.js';
import { el, escapeXml, text } from './svg.js';
import { formatTick, scale, type Ticks } from './ticks.js';

/** Where a chart draws: the whole picture and, inside it, the plot area. */
export interface Frame {
  width: number;
  height: number;
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export const TITLE_Y = 18;

/** The plot area of an x/y chart: room for the title above, the y labels left and the x labels below. */
export function xyFrame(width: number, plotHeight: number): Frame {
  return { width, height: plotHeight, left: 64, top: 32, right: width - 16, bottom: plotHeight - 44 };
}
const LEGEND_COLUMN = 170;
const LEGEND_ROW = 16;
const LEGEND_LABEL_CHARS = 24;

export function shorten(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** Grid lines, ticks and their labels on both axes, and the axis titles. */
export function axes(f: Frame, x: Ticks, y: Ticks, labels: { x?: string; y?: string }): string[] {
  const sx = scale(x.min, x.max, f.left, f.right);
  const sy = scale(y.min, y.max, f.bottom, f.top);
  const out: string[] = [];
  for (const v of y.values) {
    out.push(el('line', { x1: f.left, y1: sy(v), x2: f.right, y2: sy(v), stroke: '#e3e3e3' }));
    out.push(text(f.left - 6, sy(v) + 4, formatTick(v, y.step), { 'text-anchor': 'end', fill: '#444' }));
  }
  for (const v of x.values) {
    out.push(el('line', { x1: sx(v), y1: f.bottom, x2: sx(v), y2: f.bottom + 4, stroke: '#888' }));
    out.push(text(sx(v), f.bottom + 16, formatTick(v, x.step), { 'text-anchor': 'middle', fill: '#444' }));
  }
  out.push(el('path', { d: `M${f.left} ${f.top}V${f.bottom}H${f.right}`, fill: 'none', stroke: '#888' }));
  if (labels.x) out.push(text((f.left + f.right) / 2, f.bottom + 32, labels.x, { 'text-anchor': 'middle', class: 'x-label' }));
  if (labels.y) out.push(text(14, (f.top + f.bottom) / 2, labels.y, { 'text-anchor': 'middle', transform: `rotate(-90 14 ${(f.top + f.bottom) / 2})`, class: 'y-label' }));
  return out;
}

/** How many legend rows `count` entries take in a chart `width` wide. */
export function legendRows(count: number, width: number): number {
  const columns = Math.max(1, Math.floor((width - 20) / LEGEND_COLUMN));
  return Math.ceil(count / columns);
}

export function legendHeight(count: number, width: number): number {
  return count > 1 ? legendRows(count, width) * LEGEND_ROW + 8 : 0;
}

/** A legend of series names in columns below the plot, starting at `top`; the full name is in each entry's title. */
export function legend(names: string[], width: number, top: number, marker: 'line' | 'dot'): string[] {
  if (names.length < 2) return [];
  const rows = legendRows(names.length, width);
  return names.map((name, i) => {
    const [col, row] = [Math.floor(i / rows), i % rows];
    const [x, y] = [20 + col * LEGEND_COLUMN, top + 8 + row * LEGEND_ROW];
    const { color, dash } = seriesStyle(i);
    const mark =
      marker === 'line'
        ? el('line', { x1: x, y1: y, x2: x + 18, y2: y, stroke: color, 'stroke-width': 2, 'stroke-dasharray': dash })
        : el('circle', { cx: x + 9, cy: y, r: 4, fill: color });
    return el('g', { class: 'legend-entry' }, el('title', {}, escapeXml(name)), mark, text(x + 24, y + 4, shorten(name, LEGEND_LABEL_CHARS)));
  });
}
