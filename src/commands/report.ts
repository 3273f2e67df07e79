import { report as buildReport, type Report } from '../run/report.js';
import { openRepo } from '../workspace/repo.js';

export type { Report } from '../run/report.js';

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
