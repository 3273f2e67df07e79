import type { MetricSeries } from '../formats/metric-history.js';
import type { RunHistories } from './metric-history.js';

/*
 * Metric histories made small enough to draw: a chart's lines share one x range and one grid of at
 * most MAX_CHART_POINTS evenly spaced steps (Mermaid's xychart spreads a line's values evenly over
 * its x-axis, so every line of a chart needs a value at every grid step). Only the picture is
 * downsampled; the stored history keeps every point. Pure and deterministic: the same histories give
 * the same charts.
 */

export const MAX_CHART_POINTS = 50;

/**
 * The series' values at `n` evenly spaced steps from `min` to `max` (n ≥ 2): each grid step takes the
 * mean of the points nearest to it (so 10,000 noisy steps average out rather than alias), and a grid
 * step no point is nearest to takes the line between its neighbours. A series with at most `n`
 * evenly spaced points over the range keeps its own values.
 */
export function downsample(series: MetricSeries, min: number, max: number, n: number): number[] {
  const points = sortedByStep(series);
  const span = max - min;
  const sums = new Float64Array(n);
  const counts = new Uint32Array(n);
  for (const [s, v] of points) {
    if (s < min || s > max) continue;
    const i = span === 0 ? 0 : Math.round(((s - min) / span) * (n - 1));
    sums[i] += v;
    counts[i]++;
  }
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(counts[i] ? sums[i]! / counts[i]! : interpolate(points, min + (span * i) / (n - 1)));
  return out;
}

/** Points in step order; equal steps keep the order they were logged in (a resumed run logs a step again). */
function sortedByStep(series: MetricSeries): MetricSeries {
  for (let i = 1; i < series.length; i++) if (series[i]![0] < series[i - 1]![0]) return [...series].sort((a, b) => a[0] - b[0]);
  return series;
}

/** The value on the line between the points either side of `x` (the nearest point's beyond the ends). */
function interpolate(points: MetricSeries, x: number): number {
  let lo = 0;
  let hi = points.length - 1;
  if (x <= points[0]![0]) return points[0]![1];
  if (x >= points[hi]![0]) return points[hi]![1];
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (points[mid]![0] <= x) lo = mid;
    else hi = mid;
  }
  const [[x0, y0], [x1, y1]] = [points[lo]!, points[hi]!];
  return x1 === x0 ? y0 : y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
}

export type ChartSide = 'base' | 'head';

export interface ChartLine {
  side: ChartSide;
  /** The run id the line was read from. */
  id: string;
  /** Values at the chart's grid steps. */
  values: number[];
  /** How many points the run logged for the metric, and its last logged value. */
  points: number;
  last: number;
}

/** One metric of one run over steps: base and head on one grid when both cover the same steps. */
export interface HistoryChart {
  run: string;
  metric: string;
  /** The step column of the history (null: the row number). */
  step: string | null;
  x: { min: number; max: number };
  lines: ChartLine[];
}

/**
 * The charts of a run's metric histories, base against head, metric by metric (head's order, then
 * those only base has). Base and head share a chart when their steps span the same range; otherwise
 * each gets its own (a line cannot stop early in Mermaid's xychart). A metric with fewer than two
 * points on a side has nothing to draw there.
 */
export function historyCharts(run: string, base: RunHistories | undefined, head: RunHistories | undefined): HistoryChart[] {
  const names = [...new Set([...Object.keys(head?.metrics ?? {}), ...Object.keys(base?.metrics ?? {})])];
  const charts: HistoryChart[] = [];
  for (const metric of names) {
    const sides = (
      [
        ['base', base],
        ['head', head],
      ] as const
    ).flatMap(([side, h]) => {
      const series = h?.metrics[metric];
      if (!h || !series || series.length < 2) return [];
      let [min, max] = [Infinity, -Infinity];
      for (const [s] of series) [min, max] = [Math.min(min, s), Math.max(max, s)];
      return [{ side, id: h.run.id, series, step: h.sources[metric]!.step, min, max }];
    });
    if (sides.length === 0) continue;
    const together = sides.every((s) => s.min === sides[0]!.min && s.max === sides[0]!.max);
    for (const group of together ? [sides] : sides.map((s) => [s])) {
      const { min, max } = group[0]!;
      if (min === max) continue;
      const n = Math.min(MAX_CHART_POINTS, Math.max(...group.map((s) => s.series.length)));
      const lines = group.map((s) => ({ side: s.side, id: s.id, values: downsample(s.series, min, max, n), points: s.series.length, last: s.series[s.series.length - 1]![1] }));
      charts.push({ run, metric, step: group.at(-1)!.step, x: { min, max }, lines });
    }
  }
  return charts;
}
