import { report } from '../../commands/report.js';
import type { Output } from '../output.js';
import { reportMarkdown, reportText } from '../render/report.js';

export async function runReport(out: Output, base: string | undefined, head: string | undefined, opts: { md?: boolean }): Promise<void> {
  const res = await report({ cwd: out.cwd, base, head });
  for (const w of res.warnings) out.warn(w);
  out.result(res, () => (opts.md ? reportMarkdown(res) : reportText(res)));
}
