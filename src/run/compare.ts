import type { Run } from '../formats/run-lock.js';
import { badUsage } from '../util/errors.js';

/*
 * `mlx runs --compare`: runs side by side, a row each, a column per param and per metric. Pure: the
 * caller picks the runs; this lays them out, marks each metric's best value and sorts.
 */

/** Which way a metric improves. */
export type Direction = 'min' | 'max';

export interface CompareColumn {
  kind: 'param' | 'metric';
  /** The column's name: the key (dotted for nested maps), or `file:key` when two files share the key. */
  name: string;
  file: string;
  key: string;
  /** Metrics only: which way is better, and whether a name rule (`by: name`) or the user (`by: flag`) said so. */
  best?: { direction: Direction; by: 'name' | 'flag' };
}

export interface CompareRow {
  name: string;
  id: string;
  record: string;
  commit: string | null;
  started: string;
  /** Column name → value, null when the run has none. */
  values: Record<string, unknown>;
  /** The metric columns where this run holds the best value (ties: every run that holds it). */
  best: string[];
}

export interface Comparison {
  columns: CompareColumn[];
  rows: CompareRow[];
  /** The column the rows are sorted by, and the order; absent: the order the runs were given in. */
  sort?: { column: string; order: 'asc' | 'desc' };
}

export interface CompareOptions {
  /** Param columns to show, by name, key or `file:key`; all when absent. */
  params?: string[];
  /** Metric columns to show, each optionally `:min`/`:max` to say which way is better; all when absent. */
  metrics?: string[];
  /** `column[:asc|desc]`; a metric without an order sorts best first. */
  sort?: string;
}

export interface ComparedRun {
  name: string;
  run: Run;
  commit: string | null;
}

/**
 * Lower is better for metrics named like losses, errors, distances and costs (a word of the name, as
 * in `val_loss`, `train/error_rate`, `eval.rmse`); higher for every other (accuracy, f1, bleu, ...).
 */
const LOWER_IS_BETTER = /(^|[^a-z])(loss|error|err|mse|mae|rmse|mape|nll|perplexity|ppl|wer|cer|fid|latency|time|runtime|duration|seconds|regret|cost)s?([^a-z]|$)|loss$/i;

/** Which way a metric improves, as its name tells (`loss`: min, `accuracy`: max). */
export function directionOf(metric: string): Direction {
  return LOWER_IS_BETTER.test(metric) ? 'min' : 'max';
}

export function compareRuns(runs: ComparedRun[], opts: CompareOptions = {}): Comparison {
  const flat = runs.map((r) => ({ params: flatValues(r.run.params), metrics: flatValues(r.run.metrics) }));
  const params = pickColumns('param', columnsOf(flat.map((f) => f.params)), opts.params);
  const metrics = pickColumns('metric', columnsOf(flat.map((f) => f.metrics)), opts.metrics);
  const columns = [...params, ...metrics];
  const rows: CompareRow[] = runs.map((r, i) => {
    const values: Record<string, unknown> = {};
    for (const c of params) values[c.name] = flat[i]!.params.get(`${c.file}\0${c.key}`) ?? null;
    for (const c of metrics) values[c.name] = flat[i]!.metrics.get(`${c.file}\0${c.key}`) ?? null;
    return { name: r.name, id: r.run.id, record: r.run.record, commit: r.commit, started: r.run.started, values, best: [] };
  });
  for (const c of metrics) markBest(rows, c);
  const sort = opts.sort === undefined ? undefined : sortSpec(opts.sort, columns);
  if (sort) sortRows(rows, sort);
  return { columns, rows, ...(sort ? { sort } : {}) };
}

/** `file → {key: value}` flattened to `file\0dotted.key → value`, in the order the run lists them. */
function flatValues(byFile: Record<string, unknown>): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const walk = (file: string, prefix: string, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) walk(file, prefix ? `${prefix}.${k}` : k, x);
    else out.set(`${file}\0${prefix || 'value'}`, v);
  };
  for (const [file, content] of Object.entries(byFile)) walk(file, '', content);
  return out;
}

/** Every `file, key` any run has, in first-seen order, named by the key unless two files share it. */
function columnsOf(perRun: Map<string, unknown>[]): { name: string; file: string; key: string }[] {
  const seen = new Map<string, { file: string; key: string }>();
  for (const m of perRun) for (const k of m.keys()) if (!seen.has(k)) seen.set(k, { file: k.split('\0')[0]!, key: k.split('\0')[1]! });
  const files = new Map<string, Set<string>>();
  for (const { file, key } of seen.values()) (files.get(key) ?? files.set(key, new Set()).get(key)!).add(file);
  return [...seen.values()].map(({ file, key }) => ({ name: files.get(key)!.size > 1 ? `${file}:${key}` : key, file, key }));
}

/** The columns the user named (in their order), or all; a name that matches none is EUSAGE listing those there are. */
function pickColumns(kind: 'param' | 'metric', all: { name: string; file: string; key: string }[], wanted: string[] | undefined): CompareColumn[] {
  const withBest = (c: { name: string; file: string; key: string }, flag?: Direction): CompareColumn =>
    kind === 'metric' ? { kind, ...c, best: flag ? { direction: flag, by: 'flag' } : { direction: directionOf(c.key), by: 'name' } } : { kind, ...c };
  if (wanted === undefined) return all.map((c) => withBest(c));
  const picked: CompareColumn[] = [];
  for (const w of wanted) {
    const m = kind === 'metric' ? /^(.*):(min|max)$/.exec(w) : null;
    const name = m ? m[1]! : w;
    const found = all.filter((c) => c.name === name || c.key === name || `${c.file}:${c.key}` === name);
    if (found.length === 0) {
      const have = all.length ? `they have: ${all.map((c) => c.name).join(', ')}` : `they have no ${kind}s`;
      throw badUsage(`--${kind}s ${w}: no run compared has a ${kind} ${name} (${have})`);
    }
    for (const c of found) if (!picked.some((p) => p.name === c.name)) picked.push(withBest(c, m?.[2] as Direction | undefined));
  }
  return picked;
}

function markBest(rows: CompareRow[], c: CompareColumn): void {
  const nums = rows.map((r) => r.values[c.name]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const best = c.best!.direction === 'min' ? Math.min(...nums) : Math.max(...nums);
  // One value, or all alike, is no comparison: marking every row would say nothing.
  if (nums.length < 2 || nums.every((n) => n === best)) return;
  for (const r of rows) if (r.values[c.name] === best) r.best.push(c.name);
}

function sortSpec(spec: string, columns: CompareColumn[]): { column: string; order: 'asc' | 'desc' } {
  const m = /^(.*?)(?::(asc|desc))?$/.exec(spec)!;
  const name = m[1]!;
  const found = columns.filter((c) => c.name === name || c.key === name || `${c.file}:${c.key}` === name);
  if (found.length !== 1) {
    const what = found.length ? `names ${found.length} columns (${found.map((c) => c.name).join(', ')})` : `names no column (${columns.map((c) => c.name).join(', ') || 'there are none'})`;
    throw badUsage(`--sort ${spec}: ${what}`);
  }
  const c = found[0]!;
  const order = (m[2] as 'asc' | 'desc' | undefined) ?? (c.best?.direction === 'max' ? 'desc' : 'asc');
  return { column: c.name, order };
}

/** Numbers before text, text before missing values; equal values keep the order the runs came in. */
function sortRows(rows: CompareRow[], sort: { column: string; order: 'asc' | 'desc' }): void {
  const sign = sort.order === 'asc' ? 1 : -1;
  const rank = (v: unknown) => (typeof v === 'number' ? 0 : v === null || v === undefined ? 2 : 1);
  rows.sort((a, b) => {
    const [x, y] = [a.values[sort.column], b.values[sort.column]];
    if (rank(x) !== rank(y)) return rank(x) - rank(y);
    if (rank(x) === 0) return sign * ((x as number) - (y as number));
    if (rank(x) === 1) return sign * String(JSON.stringify(x)).localeCompare(String(JSON.stringify(y)));
    return 0;
  });
}
