import type { Run } from '../formats/run-lock.js';
import type { Chart } from '../plots/chart.js';
import type { Bar } from '../plots/bar-chart.js';
import type { LineSeries } from '../plots/line-chart.js';
import type { ScatterPoint } from '../plots/scatter-chart.js';
import { badUsage, E, isMlxError } from '../util/errors.js';
import type { Repo } from '../workspace/repo.js';
import { readRunHistories, type MetricSeries } from './metric-history.js';

/** A chart with the name its file gets (`history-loss`, `final-accuracy`, `accuracy-vs-lr`). */
export interface NamedChart {
  name: string;
  chart: Chart;
}

export interface PlotSet {
  /** The runs plotted, with the label each has in the charts. */
  runs: { name: string; id: string; label: string }[];
  charts: NamedChart[];
  /** Runs left out of a chart, and why (a history not in the cache, a run without the param). */
  warnings: string[];
}

export interface PlotRequest {
  /** Only these metrics (history or final); each must exist in some run. */
  metrics?: string[];
  /** Plot final metrics against this param (`lr`, or `params.yaml:lr`) instead of by run. */
  x?: string;
}

type Entry = { name: string; run: Run };

/**
 * The charts of `entries` (in the order given): a line chart per metric history (one line per run),
 * and per final metric a bar chart across runs, or with `x` a scatter chart against that param (bars
 * labelled by its value when the param is not a number). Histories are read whole; the charts
 * downsample them when drawn.
 */
export function plotData(repo: Repo, entries: Entry[], req: PlotRequest = {}): PlotSet {
  const labels = runLabels(entries);
  const warnings: string[] = [];
  const histories = entries.map((e) => {
    try {
      return readRunHistories(repo, e).metrics;
    } catch (err) {
      // A teammate's run whose logs were never fetched: plot the rest, and say what is missing.
      if (!isMlxError(err, E.OBJECT_MISSING)) throw err;
      warnings.push(`${err.message}; its histories are not plotted`);
      return {} as Record<string, MetricSeries>;
    }
  });
  const finals = entries.map((e) => finalMetrics(e.run));
  const historyNames = sortedUnion(histories.map(Object.keys));
  const finalNames = sortedUnion(finals.map((f) => [...f.keys()]));
  const wanted = req.metrics && new Set(req.metrics);
  for (const m of req.metrics ?? []) {
    if (!historyNames.includes(m) && !finalNames.includes(m)) {
      const known = [...new Set([...historyNames, ...finalNames])].join(', ') || 'none';
      throw badUsage(`no selected run has a metric ${JSON.stringify(m)} (metrics: ${known})`);
    }
  }
  const charts: NamedChart[] = [];
  for (const metric of historyNames.filter((m) => !wanted || wanted.has(m))) {
    const series: LineSeries[] = entries.flatMap((_, i) => (histories[i]![metric] ? [{ name: labels[i]!, points: histories[i]![metric]! }] : []));
    charts.push({ name: `history-${metric}`, chart: { kind: 'line', title: metric, xLabel: 'step', yLabel: metric, series } });
  }
  const xs = req.x === undefined ? undefined : paramValues(entries, req.x);
  for (const metric of finalNames.filter((m) => !wanted || wanted.has(m))) {
    const have = entries.flatMap((_, i) => (finals[i]!.has(metric) ? [i] : []));
    if (xs === undefined) {
      charts.push({ name: `final-${metric}`, chart: { kind: 'bar', title: metric, valueLabel: metric, bars: have.map((i) => ({ label: labels[i]!, value: finals[i]!.get(metric)! })) } });
      continue;
    }
    const withX = have.filter((i) => xs[i] !== undefined);
    for (const i of have.filter((j) => xs[j] === undefined)) warnings.push(`run ${labels[i]} has no param ${req.x}: left out of ${metric} against ${req.x}`);
    const title = `${metric} against ${req.x}`;
    if (withX.every((i) => typeof xs[i] === 'number')) {
      const points: ScatterPoint[] = withX.map((i) => ({ x: xs[i] as number, y: finals[i]!.get(metric)!, label: labels[i]!, group: entries[i]!.name }));
      charts.push({ name: `${metric}-vs-${req.x}`, chart: { kind: 'scatter', title, xLabel: req.x, yLabel: metric, points } });
    } else {
      const bars: Bar[] = withX.map((i) => ({ label: `${req.x}=${text(xs[i])} · ${labels[i]}`, value: finals[i]!.get(metric)! }));
      charts.push({ name: `${metric}-vs-${req.x}`, chart: { kind: 'bar', title, valueLabel: metric, bars } });
    }
  }
  return { runs: entries.map((e, i) => ({ name: e.name, id: e.run.id, label: labels[i]! })), charts, warnings };
}

/** Run names where they tell runs apart; where one name has several runs, the name with a short id. */
export function runLabels(entries: Entry[]): string[] {
  const count = new Map<string, number>();
  for (const e of entries) count.set(e.name, (count.get(e.name) ?? 0) + 1);
  return entries.map((e) => (count.get(e.name)! > 1 ? `${e.name} ${e.run.id.slice(0, 10)}` : e.name));
}

/** `{a: {b: 1}}` → `[['a.b', 1]]`; lists and scalars are leaves. */
function leaves(v: unknown, prefix = ''): [string, unknown][] {
  if (v && typeof v === 'object' && !Array.isArray(v)) return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => leaves(x, prefix ? `${prefix}.${k}` : k));
  return [[prefix, v]];
}

/** A run's numeric final metrics by dotted key; a key two of its metrics files share is `<file>:<key>` for each. */
function finalMetrics(run: Run): Map<string, number> {
  const all = Object.entries(run.metrics).flatMap(([file, m]) => leaves(m).map(([k, v]) => ({ file, k, v })));
  const seen = new Map<string, number>();
  for (const { k } of all) seen.set(k, (seen.get(k) ?? 0) + 1);
  const out = new Map<string, number>();
  for (const { file, k, v } of all) if (typeof v === 'number') out.set(seen.get(k)! > 1 ? `${file}:${k}` : k, v);
  return out;
}

/** Each run's value of the param `name` (`key` in any params file, or `file:key`); a param no run has is an error. */
function paramValues(entries: Entry[], name: string): unknown[] {
  const colon = name.lastIndexOf(':');
  const values = entries.map((e) => {
    for (const [file, p] of Object.entries(e.run.params)) {
      if (colon >= 0 && file !== name.slice(0, colon)) continue;
      const hit = leaves(p).find(([k]) => k === (colon >= 0 ? name.slice(colon + 1) : name));
      if (hit) return hit[1];
    }
    return undefined;
  });
  if (values.every((v) => v === undefined)) throw badUsage(`no selected run has a param ${JSON.stringify(name)} (give it as key or file:key, as mlx show lists params)`);
  return values;
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function sortedUnion(lists: string[][]): string[] {
  return [...new Set(lists.flat())].sort();
}
