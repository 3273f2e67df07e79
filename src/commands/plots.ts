import fs from 'node:fs';
import path from 'node:path';
import { chartSvg } from '../plots/chart.js';
import { catalog, findRunIn, type CatalogEntry } from '../run/catalog.js';
import { readRunLock } from '../run/lockfile.js';
import { plotData, type PlotSet } from '../run/plot-data.js';
import { badUsage, unknownRun } from '../util/errors.js';
import { writeFileAtomicSync } from '../util/fs.js';
import { openRepo } from '../workspace/repo.js';

export type { NamedChart, PlotSet } from '../run/plot-data.js';

export interface PlotsOptions {
  cwd: string;
  /** Runs by id, id prefix, record oid or name; none: the runs of the work tree's mlx.lock. */
  runs?: string[];
  /** Every run of the catalog (mlx runs --all). */
  all?: boolean;
  metrics?: string[];
  /** A param to plot final metrics against. */
  x?: string;
  /** Write one SVG file per chart into this directory (created if missing). */
  output?: string;
}

export interface PlotsResult extends PlotSet {
  /** The SVG files written (absolute paths), with `output`. */
  written?: string[];
}

/**
 * `mlx plots`: charts of metric histories and final metrics of chosen runs; with `output`, each
 * chart as an SVG file named after it (the same data gives the same bytes).
 */
export async function plots(opts: PlotsOptions): Promise<PlotsResult> {
  if (opts.all && opts.runs?.length) throw badUsage('give runs or --all, not both');
  const repo = await openRepo(opts.cwd);
  const { entries } = await catalog(repo);
  const set = plotData(repo, selectRuns(entries, readRunLock(repo).runs, opts), { metrics: opts.metrics, x: opts.x });
  if (opts.output === undefined) return set;
  const dir = path.resolve(opts.cwd, opts.output);
  fs.mkdirSync(dir, { recursive: true });
  const taken = new Set<string>();
  const written = set.charts.map(({ name, chart }) => {
    // Two metric names can read the same once made portable (`a/b`, `a_b`): the later one is numbered.
    let stem = fileStem(name);
    for (let n = 2; taken.has(stem.toLowerCase()); n++) stem = `${fileStem(name)}-${n}`;
    taken.add(stem.toLowerCase());
    const file = path.join(dir, `${stem}.svg`);
    writeFileAtomicSync(file, chartSvg(chart));
    return file;
  });
  return { ...set, written };
}

/** Named runs in the order given; else the catalog (oldest first) or the work tree's mlx.lock runs. */
function selectRuns(entries: CatalogEntry[], current: Record<string, { record: string }>, opts: PlotsOptions): CatalogEntry[] {
  if (opts.runs?.length) return opts.runs.map((r) => findRunIn(entries, r));
  const oldestFirst = [...entries].reverse();
  if (opts.all) return oldestFirst;
  const records = new Set(Object.values(current).map((r) => r.record));
  const picked = oldestFirst.filter((e) => records.has(e.run.record));
  if (picked.length === 0) throw unknownRun('mlx.lock records no runs to plot', { hint: 'name runs (mlx runs lists them) or give --all' });
  return picked;
}

/** A chart name as a portable file name: anything but letters, digits, `.`, `_` and `-` becomes `_`. */
export function fileStem(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_');
}
