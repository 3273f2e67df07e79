import type { Chart } from '../plots/chart.js';
import type { Oid } from '../hash/oid.js';
import { E, isMlxError } from '../util/errors.js';
import type { Repo } from '../workspace/repo.js';
import { readRecordHistories, type MetricSeries } from './metric-history.js';
import type { Report } from './report.js';

/** A chart of a review: what it shows, for which run. */
export interface ReportChart {
  run: string;
  metric: string;
  chart: Chart;
}

export interface ReportCharts {
  charts: ReportChart[];
  warnings: string[];
}

/**
 * The pictures of a review: for each run that is new, changed or re-run, each metric history as a
 * line chart of base against head (head alone for a new run), and each final metric that changed and
 * is a number on both sides as two bars. Histories come from the run records in the cache; a record or log not
 * there is a warning, not a failure (records travel with the cache, and a review must come out).
 */
export function reportCharts(repo: Repo, report: Pick<Report, 'runs' | 'metrics'>): ReportCharts {
  const charts: ReportChart[] = [];
  const warnings: string[] = [];
  const read = (name: string, side: string, record: Oid): Record<string, MetricSeries> => {
    try {
      return readRecordHistories(repo, record).metrics;
    } catch (err) {
      if (!isMlxError(err, E.OBJECT_MISSING)) throw err;
      warnings.push(`run ${name}: the ${side} histories are not in the cache, so not drawn (${err.message})`);
      return {};
    }
  };
  for (const r of report.runs) {
    if (r.status !== 'added' && r.status !== 'changed' && r.status !== 'rerun') continue;
    const head = read(r.name, 'head', r.head!.record);
    const base = r.base ? read(r.name, 'base', r.base.record) : {};
    for (const metric of [...new Set([...Object.keys(base), ...Object.keys(head)])].sort()) {
      const series = [
        ...(base[metric] ? [{ name: `base ${r.base!.id}`, points: base[metric]! }] : []),
        ...(head[metric] ? [{ name: `head ${r.head!.id}`, points: head[metric]! }] : []),
      ];
      charts.push({ run: r.name, metric, chart: { kind: 'line', title: `${r.name}: ${metric}`, xLabel: 'step', yLabel: metric, series, width: 520, height: 260 } });
    }
  }
  for (const d of report.metrics) {
    if (d.change === 'same' || typeof d.base !== 'number' || typeof d.head !== 'number') continue;
    const metric = `${d.file}:${d.key}`;
    const bars = [{ label: 'base', value: d.base }, { label: 'head', value: d.head }];
    charts.push({ run: d.run, metric, chart: { kind: 'bar', title: `${d.run}: ${d.key}`, valueLabel: metric, bars, width: 480 } });
  }
  return { charts, warnings };
}
