import { axes, legend, legendHeight, TITLE_Y, xyFrame } from './frame.js';
import { seriesStyle } from './palette.js';
import { el, escapeXml, svgDocument, text } from './svg.js';
import { extent, formatValue, niceTicks, scale } from './ticks.js';

export interface ScatterPoint {
  x: number;
  y: number;
  /** What the point is (a run), shown as its tooltip. */
  label: string;
  /** Points of one group share a colour and a legend entry. */
  group: string;
}

export interface ScatterChart {
  title: string;
  xLabel?: string;
  yLabel?: string;
  points: ScatterPoint[];
  width?: number;
  height?: number;
}

/** A value against a param, one dot per point, coloured by group (groups in order of first appearance). */
export function scatterChartSvg(chart: ScatterChart): string {
  const width = chart.width ?? 640;
  const plotHeight = chart.height ?? 320;
  const f = xyFrame(width, plotHeight);
  const points = chart.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const groups = [...new Set(points.map((p) => p.group))];
  const x = niceTicks(...extent(points.map((p) => p.x)), 6);
  const y = niceTicks(...extent(points.map((p) => p.y)), 5);
  const sx = scale(x.min, x.max, f.left, f.right);
  const sy = scale(y.min, y.max, f.bottom, f.top);
  const dots = points.map((p) =>
    el('circle', { class: 'point', 'data-label': p.label, cx: sx(p.x), cy: sy(p.y), r: 4, fill: seriesStyle(groups.indexOf(p.group)).color, 'fill-opacity': 0.85 }, el('title', {}, escapeXml(`${p.label}: ${formatValue(p.x)}, ${formatValue(p.y)}`))),
  );
  const height = plotHeight + legendHeight(groups.length, width);
  return svgDocument(width, height, chart.title, [
    el('rect', { width, height, fill: '#fff' }),
    text(width / 2, TITLE_Y, chart.title, { 'text-anchor': 'middle', 'font-size': 13, 'font-weight': 'bold', class: 'chart-title' }),
    ...axes(f, x, y, { x: chart.xLabel, y: chart.yLabel }),
    ...dots,
    ...legend(groups, width, plotHeight, 'dot'),
  ], { class: 'chart scatter-chart' });
}
