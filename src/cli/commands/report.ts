import path from 'node:path';
import { report } from '../../commands/report.js';
import { badUsage } from '../../util/errors.js';
import type { Output } from '../output.js';
import { reportMarkdown, reportText } from '../render/report.js';
import { pageCharts, reportHtml } from '../render/report-html.js';

export async function runReport(out: Output, base: string | undefined, head: string | undefined, opts: { md?: boolean; html?: string }): Promise<void> {
  if (opts.html !== undefined && opts.md) throw badUsage('--md or --html, not both');
  const res = await report({ cwd: out.cwd, base, head });
  for (const w of res.warnings) out.warn(w);
  if (opts.html !== undefined) {
    const written = out.writeFile(opts.html, reportHtml(res));
    out.result({ ...res, written }, () => [`wrote ${path.relative(out.cwd, written) || written} (${pageCharts(res).length} chart(s)${res.lineage ? ', lineage graph' : ''})`]);
    return;
  }
  out.result(res, () => (opts.md ? reportMarkdown(res) : reportText(res)));
}
