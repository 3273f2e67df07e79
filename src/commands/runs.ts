import { catalog, findRunIn, type Catalog, type CatalogEntry } from '../run/catalog.js';
import { compareRuns, type CompareOptions, type Comparison } from '../run/compare.js';
import { badUsage } from '../util/errors.js';
import { openRepo } from '../workspace/repo.js';

export type { Catalog, CatalogEntry } from '../run/catalog.js';
export type { CompareColumn, CompareRow, Comparison } from '../run/compare.js';

/** `mlx runs`: the experiment catalog, from mlx.lock and the history of every branch, remote-tracking branch and tag. */
export async function runs(opts: { cwd: string }): Promise<Catalog> {
  return catalog(await openRepo(opts.cwd));
}

export interface CompareRunsOptions extends CompareOptions {
  cwd: string;
  /** Runs by id, id prefix, record oid or name (its newest run); none: the newest run of each name. */
  runs?: string[];
  /** Every run the catalog holds, each execution a row. */
  all?: boolean;
}

/** `mlx runs --compare`: the chosen runs side by side, params and metrics as columns, each metric's best marked. */
export async function compare(opts: CompareRunsOptions): Promise<Comparison & { warnings: string[] }> {
  if (opts.all && opts.runs?.length) throw badUsage('give runs to compare or --all, not both');
  const { entries, warnings } = await catalog(await openRepo(opts.cwd));
  const chosen = opts.runs?.length ? uniqueRecords(opts.runs.map((r) => findRunIn(entries, r))) : opts.all ? entries : newestOfEachName(entries);
  return { ...compareRuns(chosen, opts), warnings };
}

/** The catalog is newest first: the first entry of a name is its newest run. */
function newestOfEachName(entries: CatalogEntry[]): CatalogEntry[] {
  const seen = new Set<string>();
  return entries.filter((e) => !seen.has(e.name) && seen.add(e.name));
}

/** A run named twice (by name and by id) is one row. */
function uniqueRecords(entries: CatalogEntry[]): CatalogEntry[] {
  const seen = new Set<string>();
  return entries.filter((e) => !seen.has(e.run.record) && seen.add(e.run.record));
}
