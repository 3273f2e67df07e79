import path from 'node:path';
import { plots } from '../../commands/plots.js';
import { compare, runs, type CatalogEntry, type Comparison } from '../../commands/runs.js';
import { badUsage } from '../../util/errors.js';
import type { Output } from '../output.js';
import { compareCsv, compareMarkdown, compareText } from '../render/compare.js';
import { compareHtml } from '../render/compare-html.js';
import { count } from '../render/output-format.js';
import { flatten, seedSummary } from '../render/values.js';

export interface RunsFlags {
  all?: boolean;
  compare?: boolean;
  params?: string[];
  metrics?: string[];
  sort?: string;
  md?: boolean;
  csv?: boolean;
  html?: string;
}

export async function runRuns(out: Output, names: string[], opts: RunsFlags): Promise<void> {
  if (!opts.compare) {
    const only = [names.length && 'run names', opts.params && '--params', opts.metrics && '--metrics', opts.sort && '--sort', opts.md && '--md', opts.csv && '--csv', opts.html !== undefined && '--html'].filter(Boolean);
    if (only.length) throw badUsage(`${only.join(', ')} ${only.length > 1 || names.length ? 'go' : 'goes'} with --compare: mlx runs --compare ${names.join(' ')}`.trimEnd());
    return listRuns(out, opts);
  }
  if (opts.md && opts.csv) throw badUsage('--md or --csv, not both');
  if (opts.html !== undefined && (opts.md || opts.csv)) throw badUsage(`--html or ${opts.md ? '--md' : '--csv'}, not both`);
  const res = await compare({ cwd: out.cwd, runs: names, all: opts.all, params: commaList(opts.params), metrics: commaList(opts.metrics), sort: opts.sort });
  for (const w of res.warnings) out.warn(w);
  if (opts.html !== undefined) return comparePage(out, res, opts.html);
  out.result(res, () => (opts.md ? compareMarkdown(res) : opts.csv ? compareCsv(res) : compareText(res)));
}

/** The comparison and the compared runs' charts (their histories, their final metrics) as one HTML page. */
async function comparePage(out: Output, cmp: Comparison, file: string): Promise<void> {
  // The runs by record oid: exactly the rows compared, whatever names they share.
  const charts = cmp.rows.length ? await plots({ cwd: out.cwd, runs: cmp.rows.map((r) => r.record) }) : undefined;
  for (const w of charts?.warnings ?? []) out.warn(w);
  const written = out.writeFile(file, compareHtml(cmp, charts));
  out.result({ ...cmp, charts: charts?.charts.length ?? 0, written }, () => [`wrote ${path.relative(out.cwd, written) || written} (${cmp.rows.length} run(s), ${charts?.charts.length ?? 0} chart(s))`]);
}

/** `--metrics a,b --metrics c` → a, b, c. */
function commaList(values: string[] | undefined): string[] | undefined {
  return values?.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

async function listRuns(out: Output, opts: { all?: boolean }): Promise<void> {
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
