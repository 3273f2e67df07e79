import { report as buildReport, type Report } from '../run/report.js';
import { reportCharts, type ReportCharts } from '../run/report-charts.js';
import { openRepo } from '../workspace/repo.js';

export type { Report } from '../run/report.js';
export type { ReportChart, ReportCharts } from '../run/report-charts.js';

export interface ReportOptions {
  cwd: string;
  /** Compare with this revision (default: the merge base with the upstream default branch, else HEAD~1). */
  base?: string;
  /** Up to this revision (default: the work tree). */
  head?: string;
}

/** `mlx report`: data, runs, params, metrics, environments and lineage changed since a base. */
export async function report(opts: ReportOptions): Promise<Report> {
  return buildReport(await openRepo(opts.cwd), { base: opts.base, head: opts.head });
}

/** `mlx report --html`: the report and its pictures (metric histories base against head, changed final metrics). */
export async function reportWithCharts(opts: ReportOptions): Promise<{ report: Report; charts: ReportCharts }> {
  const repo = await openRepo(opts.cwd);
  const res = await buildReport(repo, { base: opts.base, head: opts.head });
  return { report: res, charts: reportCharts(repo, res) };
}
