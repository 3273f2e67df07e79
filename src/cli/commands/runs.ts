import { runs, type CatalogEntry } from '../../commands/runs.js';
import type { Output } from '../output.js';
import { count } from '../render/output-format.js';
import { flatten, seedSummary } from '../render/values.js';

export async function runRuns(out: Output, opts: { all?: boolean }): Promise<void> {
  const res = await runs({ cwd: out.cwd });
  for (const w of res.warnings) out.warn(w);
  const rows = opts.all ? res.entries : res.entries.slice(0, 50);
  out.result(res, () => {
    if (rows.length === 0) return ['no runs recorded yet (mlx run -n <name> ... -- <command>)'];
    return rows.map((e) => {
      const params = Object.values(e.run.params).flatMap((p) => flatten(p));
      const metrics = Object.values(e.run.metrics).flatMap((m) => flatten(m));
      const formats = Object.entries(e.run.formats ?? {}).map(([p, f]) => `${p}:${f.format}${f.parameters === undefined ? '' : `(${count(f.parameters)})`}`);
      return `${e.run.id}  ${e.name.padEnd(12)} ${e.commit ? e.commit.slice(0, 8) : 'uncommitted'}  ${e.run.started.slice(0, 16).replace('T', ' ')}  ${refs(e)}  seed=${seedSummary(e.run).replaceAll(', ', ',')}  ${params.join(' ')}  ${metrics.join(' ')}${formats.length ? `  ${formats.join(' ')}` : ''}`.trimEnd();
    });
  });
}

/** The refs whose history holds the run, the first three by name (`--json` lists them all). */
function refs(e: CatalogEntry): string {
  if (e.refs.length === 0) return e.commit ? '(no ref)' : '(work tree)';
  const shown = e.refs.slice(0, 3).join(',');
  return e.refs.length > 3 ? `${shown},+${e.refs.length - 3}` : shown;
}
