import { lineage } from '../../commands/lineage.js';
import { toDot, toMermaid, toTree } from '../render/lineage.js';
import { badUsage } from '../../util/errors.js';
import { Output } from '../output.js';

const FORMATS = ['text', 'mermaid', 'dot', 'json'] as const;

export async function runLineage(out: Output, target: string, opts: { rev?: string; format?: string }): Promise<void> {
  const format = opts.format ?? 'text';
  if (!(FORMATS as readonly string[]).includes(format)) throw badUsage(`--format ${format}: expected one of ${FORMATS.join(', ')}`);
  const res = await lineage({ cwd: out.cwd, path: target, rev: opts.rev });
  for (const w of res.warnings) out.warn(w);
  const printer = format === 'json' ? new Output({ ...out.opts, json: true }) : out;
  printer.result(res, () => (format === 'mermaid' ? [toMermaid(res)] : format === 'dot' ? [toDot(res)] : toTree(res)));
}
