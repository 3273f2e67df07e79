import path from 'node:path';
import { report, reportWithCharts } from '../../commands/report.js';
import { badUsage } from '../../util/errors.js';
import type { Output } from '../output.js';
import { reportMarkdown, reportText } from '../render/report.js';
import { reportHtml } from '../render/report-html.js';

export async function runReport(out: Output, base: string | undefined, head: string | undefined, opts: { md?: boolean; html?: string }): Promise<void> {
  if (opts.html !== undefined && opts.md) throw badUsage('give --md or --html, not both');
  if (opts.html !== undefined) {
    const { report: res, charts } = await reportWithCharts({ cwd: out.cwd, base, head });
    for (const w of [...res.warnings, ...charts.warnings]) out.warn(w);
    const file = out.writeFile(opts.html, reportHtml(res, charts));
    out.result({ ...res, charts: charts.charts.length, written: file }, () => [`wrote ${path.relative(out.cwd, file) || file} (${charts.charts.length} chart(s)${res.lineage ? ', lineage graph' : ''})`]);
    return;
  }
  const res = await report({ cwd: out.cwd, base, head });
  for (const w of res.warnings) out.warn(w);
  out.result(res, () => (opts.md ? reportMarkdown(res) : reportText(res)));
}
