import { diff } from '../../commands/diff.js';
import type { Output } from '../output.js';
import { diffMarkdown, diffText } from '../render/diff.js';

export async function runDiff(out: Output, from: string | undefined, to: string | undefined, opts: { md?: boolean }): Promise<void> {
  const res = await diff({ cwd: out.cwd, from, to });
  out.result(res, () => (opts.md ? diffMarkdown(res) : diffText(res)));
}
