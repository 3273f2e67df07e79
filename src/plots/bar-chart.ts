import { shorten, TITLE_Y } from './frame.js';
import { seriesStyle } from './palette.js';
import { el, escapeXml, svgDocument, text } from './svg.js';
import { extent, formatTick, formatValue, niceTicks, scale } from './ticks.js';

export interface Bar {
  label: string;
  value: number;
}

export interface BarChart {
  title: string;
  /** What the values are (the metric), under the value axis. */
  valueLabel?: string;
  bars: Bar[];
  width?: number;
}

const ROW = 20;
const LABEL_CHARS = 30;

/**
 * One value per label as horizontal bars (one row each, so 50 runs stay legible and the height
 * grows with the count), from zero, the value printed at each bar's end.
 */
export function barChartSvg(chart: BarChart): string {
  const width = chart.width ?? 640;
  const labels = chart.bars.map((b) => shorten(b.label, LABEL_CHARS));
  const left = Math.min(220, 16 + Math.max(4, ...labels.map((l) => l.length)) * 6.5);
  const [top, right] = [32, width - 64];
  const bottom = top + Math.max(1, chart.bars.length) * ROW;
  const height = bottom + 44;
  const [lo, hi] = extent(chart.bars.map((b) => b.value).filter(Number.isFinite));
  const ticks = niceTicks(Math.min(0, lo), Math.max(0, hi), 5);
  const sx = scale(ticks.min, ticks.max, left, right);
  const body: string[] = [el('rect', { width, height, fill: '#fff' }), text(width / 2, TITLE_Y, chart.title, { 'text-anchor': 'middle', 'font-size': 13, 'font-weight': 'bold', class: 'chart-title' })];
  for (const v of ticks.values) {
    body.push(el('line', { x1: sx(v), y1: top, x2: sx(v), y2: bottom, stroke: v === 0 ? '#888' : '#e3e3e3' }));
    body.push(text(sx(v), bottom + 16, formatTick(v, ticks.step), { 'text-anchor': 'middle', fill: '#444' }));
  }
  chart.bars.forEach((b, i) => {
    const y = top + i * ROW;
    const label = text(left - 6, y + ROW / 2 + 4, labels[i]!, { 'text-anchor': 'end' });
    if (!Number.isFinite(b.value)) {
      body.push(el('g', { class: 'bar', 'data-label': b.label }, el('title', {}, escapeXml(`${b.label}: ${b.value}`)), label, text(sx(0) + 4, y + ROW / 2 + 4, String(b.value), { fill: '#888' })));
      return;
    }
    const [x0, x1] = [sx(Math.min(0, b.value)), sx(Math.max(0, b.value))];
    body.push(
      el(
        'g',
        { class: 'bar', 'data-label': b.label },
        el('title', {}, escapeXml(`${b.label}: ${formatValue(b.value)}`)),
        label,
        el('rect', { x: x0, y: y + 3, width: Math.max(1, x1 - x0), height: ROW - 6, fill: seriesStyle(0).color }),
        text(x1 + 4, y + ROW / 2 + 4, formatValue(b.value), { fill: '#222' }),
      ),
    );
  });
  body.push(el('path', { d: `M${left} ${bottom}H${right}`, stroke: '#888' }));
  if (chart.valueLabel) body.push(text((left + right) / 2, bottom + 32, chart.valueLabel, { 'text-anchor': 'middle', class: 'x-label' }));
  return svgDocument(width, height, chart.title, body, { class: 'chart bar-chart' });
}
