import { barChartSvg, type BarChart } from './bar-chart.js';
import { lineChartSvg, type LineChart } from './line-chart.js';
import { plainBars, plainLineSummary, plainScatter } from './plain.js';
import { scatterChartSvg, type ScatterChart } from './scatter-chart.js';
import { terminalBarChart, terminalLineChart, terminalScatterChart, type TerminalOptions } from './terminal.js';

/** Any chart mlx draws, told apart by `kind`, so one value can go to SVG, a terminal or plain text. */
export type Chart = ({ kind: 'line' } & LineChart) | ({ kind: 'bar' } & BarChart) | ({ kind: 'scatter' } & ScatterChart);

export function chartSvg(c: Chart): string {
  if (c.kind === 'line') return lineChartSvg(c);
  if (c.kind === 'bar') return barChartSvg(c);
  return scatterChartSvg(c);
}

export function terminalChart(c: Chart, opts: TerminalOptions): string[] {
  if (c.kind === 'line') return terminalLineChart(c.title, c.series, opts);
  if (c.kind === 'bar') return terminalBarChart(c.title, c.bars, opts);
  return terminalScatterChart(c.title, c.points, opts);
}

export function plainChart(c: Chart): string[] {
  if (c.kind === 'line') return plainLineSummary(c.title, c.series);
  if (c.kind === 'bar') return plainBars(c.title, c.bars);
  return plainScatter(c.title, c.xLabel ?? 'x', c.yLabel ?? 'y', c.points);
}
