import { minMaxDownsample, type Point } from './downsample.js';
import { axes, legend, legendHeight, TITLE_Y, xyFrame } from './frame.js';
import { seriesStyle } from './palette.js';
import { el, escapeXml, pathData, svgDocument, text } from './svg.js';
import { extent, niceTicks, scale } from './ticks.js';

export interface LineSeries {
  name: string;
  /** (step, value) pairs sorted by step. */
  points: readonly Point[];
}

export interface LineChart {
  title: string;
  xLabel?: string;
  yLabel?: string;
  series: LineSeries[];
  width?: number;
  height?: number;
}

/**
 * Several series over steps as one SVG line chart: nice ticks on both axes, a legend below when
 * there is more than one series. Each series is downsampled (see `bucketsPerSeries`), so the file
 * size depends on the chart's width and the number of series, not on the length of the histories.
 */
export function lineChartSvg(chart: LineChart): string {
  const width = chart.width ?? 640;
  const plotHeight = chart.height ?? 320;
  const f = xyFrame(width, plotHeight);
  const buckets = bucketsPerSeries(chart.series.length, f.right - f.left);
  const series = chart.series.map((s) => ({ name: s.name, points: minMaxDownsample(s.points, buckets) }));
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]);
  const x = niceTicks(...extent(xs), 6, xs.every(Number.isInteger));
  const y = niceTicks(...extent(all.map((p) => p[1])), 5);
  const sx = scale(x.min, x.max, f.left, f.right);
  const sy = scale(y.min, y.max, f.bottom, f.top);
  const lines = series.map((s, i) => {
    const { color, dash } = seriesStyle(i);
    const px = s.points.map(([a, b]) => [sx(a), sy(b)] as const);
    // A single step would draw nothing as a line: mark it with a dot.
    const shape = px.length === 1 ? el('circle', { cx: px[0]![0], cy: px[0]![1], r: 3, fill: color }) : el('path', { d: pathData(px), fill: 'none', stroke: color, 'stroke-width': 1.5, 'stroke-dasharray': dash, 'stroke-linejoin': 'round' });
    return el('g', { class: 'series', 'data-series': s.name }, el('title', {}, escapeXml(s.name)), shape);
  });
  const height = plotHeight + legendHeight(series.length, width);
  const empty = all.length === 0 ? [text((f.left + f.right) / 2, (f.top + f.bottom) / 2, 'no data', { 'text-anchor': 'middle', fill: '#888' })] : [];
  return svgDocument(width, height, chart.title, [
    el('rect', { width, height, fill: '#fff' }),
    text(width / 2, TITLE_Y, chart.title, { 'text-anchor': 'middle', 'font-size': 13, 'font-weight': 'bold', class: 'chart-title' }),
    ...axes(f, x, y, { x: chart.xLabel, y: chart.yLabel }),
    ...lines,
    ...empty,
    ...legend(series.map((s) => s.name), width, plotHeight, 'line'),
  ], { class: 'chart line-chart' });
}

/** About this many points in all the lines of one chart: 50 series of 10,000 steps make a file of ~150 KB. */
const POINT_BUDGET = 12_000;

/** Buckets per series: one per pixel column for a few series, fewer as series add up, never under 60. */
export function bucketsPerSeries(count: number, plotWidth: number): number {
  return Math.max(60, Math.min(Math.round(plotWidth), Math.floor(POINT_BUDGET / (2 * Math.max(1, count)))));
}
