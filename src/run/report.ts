import fs from 'node:fs';
import { keyOf, type Run } from '../formats/run-lock.js';
import type { Oid } from '../hash/oid.js';
import { openGit, resolveRevision, type GitRepo } from '../git/git-repo.js';
import { E, MlxError, isMlxError, reworded } from '../util/errors.js';
import { diff, type PathChange } from '../repository/diff.js';
import type { Repo } from '../workspace/repo.js';
import { WORKSPACE } from '../repository/revisions.js';
import { diffStoredEnvironments, type EnvChange } from './env-diff.js';
import { artifactId, lineage, runNodeId, type Lineage } from './lineage.js';
import { readRunLock, readRunLockAt } from './lockfile.js';

/** What a run became between base and head. `rerun`: same inputs (same key), recorded again. */
export type RunStatus = 'added' | 'removed' | 'changed' | 'rerun' | 'unchanged';

export interface RunDelta {
  name: string;
  status: RunStatus;
  base?: { id: string; record: Oid };
  head?: { id: string; record: Oid };
  /** For `changed`: which inputs differ: `cmd`, `seed`, `params`, `env`, `deps: <path>`. */
  inputs: string[];
  /** Outputs whose content differs (for `changed` and `rerun`), or all outputs of an added run. */
  outputs: string[];
}

/** One param or metric value on both sides; a side that lacks it is absent. */
export interface ValueDelta {
  run: string;
  file: string;
  /** Dotted key inside the file. */
  key: string;
  base?: unknown;
  head?: unknown;
  change: 'added' | 'removed' | 'changed' | 'same';
  /** head − base, when both are numbers. */
  delta?: number;
  /** The delta relative to |base|, in percent, when base is a non-zero number. */
  pct?: number;
}

export interface EnvDelta {
  run: string;
  base: Oid;
  head: Oid;
  /** The changed fields; undefined when a record could not be read (then `note` says why). */
  changes?: EnvChange[];
  note?: string;
}

/** A pull-request review: what changed in data, runs, params, metrics and environments, and why. */
export interface Report {
  base: { rev: string; commit: string; how: string };
  head: { rev: string; commit?: string };
  data: PathChange[];
  runs: RunDelta[];
  params: ValueDelta[];
  metrics: ValueDelta[];
  environment: EnvDelta[];
  /** The lineage of the outputs that changed at head, or null when no run output changed. */
  lineage: Lineage | null;
  /** Lineage node ids that are new or changed at head, for highlighting. */
  changedNodes: string[];
  warnings: string[];
}

/**
 * `mlx report [base] [head]`: compares `base` (default: the merge base with the branch `main` when on
 * another branch, else `HEAD~1`) with `head` (default: the work tree).
 */
export async function report(repo: Repo, opts: { base?: string; head?: string } = {}): Promise<Report> {
  const git = openGit(repo.root);
  const base = opts.base === undefined ? await defaultBase(git, repo.root) : { rev: opts.base, commit: await resolveRevision(git, opts.base), how: 'as given' };
  const headRev = opts.head ?? WORKSPACE;
  // The work tree of a repository without commits has no HEAD to name; any other failure is real.
  const headCommit = opts.head === undefined ? await resolveRevision(git, 'HEAD').catch(unlessNoSuchRevision) : await resolveRevision(git, opts.head);
  const baseRuns = (await readRunLockAt(git, base.commit)).runs;
  const headRuns = opts.head === undefined ? readRunLock(repo).runs : (await readRunLockAt(git, headCommit!)).runs;

  const data = (await diff(repo, base.commit, opts.head === undefined ? WORKSPACE : headCommit!)).changes;
  const runs: RunDelta[] = [];
  const params: ValueDelta[] = [];
  const metrics: ValueDelta[] = [];
  const environment: EnvDelta[] = [];
  for (const name of [...new Set([...Object.keys(baseRuns), ...Object.keys(headRuns)])].sort()) {
    const [b, h] = [baseRuns[name], headRuns[name]];
    runs.push(runDelta(name, b, h));
    if (!b || !h || b.record === h.record) continue;
    for (const file of keysOf(b.params, h.params)) params.push(...valueDeltas(name, file, b.params[file], h.params[file]).filter((d) => d.change !== 'same'));
    for (const file of keysOf(b.metrics, h.metrics)) metrics.push(...valueDeltas(name, file, b.metrics[file], h.metrics[file]));
    if (b.env !== h.env) environment.push(envDelta(repo, name, b.env, h.env));
  }

  // The lineage of what changed: outputs of new, changed and re-run runs, and changed data that a run wrote.
  const changedOuts = new Set(runs.flatMap((r) => (r.status === 'unchanged' || r.status === 'removed' ? [] : r.outputs)));
  for (const c of data) if (c.change !== 'deleted' && Object.values(headRuns).some((r) => c.path in r.outs)) changedOuts.add(c.path);
  const warnings: string[] = [];
  let graph: Lineage | null = null;
  if (changedOuts.size) {
    try {
      graph = await lineage(repo, [...changedOuts].sort(), opts.head === undefined ? {} : { rev: headCommit! });
      warnings.push(...graph.warnings);
    } catch (err) {
      if (!(err instanceof MlxError)) throw err;
      warnings.push(`no lineage graph: ${err.message}`);
    }
  }
  const changedNodes: string[] = [];
  for (const c of data) if (c.newOid) changedNodes.push(artifactId(c.path, c.newOid));
  for (const r of runs) {
    const run = headRuns[r.name];
    if (run && (r.status === 'added' || r.status === 'changed' || r.status === 'rerun')) changedNodes.push(runNodeId(run));
  }
  return {
    base,
    head: { rev: headRev, ...(headCommit ? { commit: headCommit } : {}) },
    data,
    runs,
    params,
    metrics,
    environment,
    lineage: graph,
    changedNodes: changedNodes.filter((id) => graph?.nodes.some((n) => n.id === id)),
    warnings,
  };
}

/**
 * On a branch other than `main`, where `main` exists: the merge base of `main` and HEAD (what a pull
 * request into `main` is compared with). Otherwise `HEAD~1`.
 */
async function defaultBase(git: GitRepo, dir: string): Promise<Report['base']> {
  const g = (await import('isomorphic-git')).default;
  // Each fallback below is for "there is no such thing" (no HEAD yet, no branch main, a merge base
  // whose commits a shallow clone lacks); any other failure propagates.
  const notFound = <T>(value: T) => (err: unknown): T => {
    if (err instanceof g.Errors.NotFoundError) return value;
    throw err;
  };
  const branch = await g.currentBranch({ fs, dir }).catch(notFound(undefined));
  const main = await resolveRevision(git, 'main').catch(unlessNoSuchRevision);
  if (main && branch !== 'main') {
    const head = await resolveRevision(git, 'HEAD');
    const [mergeBase] = (await g.findMergeBase({ fs, dir, oids: [main, head], cache: git.cache }).catch(notFound([]))) as string[];
    if (mergeBase && mergeBase !== main) return { rev: 'main', commit: mergeBase, how: `default: the merge base of main (${main.slice(0, 8)}) and HEAD` };
    return { rev: 'main', commit: main, how: 'default: the branch main' };
  }
  const commit = await resolveRevision(git, 'HEAD~1').catch((err: unknown) => {
    if (isMlxError(err, E.UNKNOWN_REVISION, E.NO_COMMITS)) throw reworded(err, err.message, { hint: 'name the base to compare with: mlx report <rev>' });
    throw err;
  });
  return { rev: 'HEAD~1', commit, how: main ? 'default: the parent commit (HEAD is on main)' : 'default: the parent commit (there is no branch main)' };
}

/** A `.catch` for revisions that may not exist (or a HEAD with no commits yet): undefined then, else rethrown. */
function unlessNoSuchRevision(err: unknown): undefined {
  if (isMlxError(err, E.UNKNOWN_REVISION, E.NO_COMMITS)) return undefined;
  throw err;
}

function keysOf(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
}

function runDelta(name: string, b: Run | undefined, h: Run | undefined): RunDelta {
  const side = (r: Run) => ({ id: r.id, record: r.record });
  if (!b) return { name, status: 'added', head: side(h!), inputs: [], outputs: Object.keys(h!.outs) };
  if (!h) return { name, status: 'removed', base: side(b), inputs: [], outputs: [] };
  const outputs = keysOf(b.outs, h.outs).filter((p) => b.outs[p]?.oid !== h.outs[p]?.oid);
  if (b.record === h.record) return { name, status: 'unchanged', base: side(b), head: side(h), inputs: [], outputs: [] };
  if (keyOf(b) === keyOf(h)) return { name, status: 'rerun', base: side(b), head: side(h), inputs: [], outputs };
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  const inputs: string[] = [];
  if (!same(b.cmd, h.cmd)) inputs.push('cmd');
  if (b.seed !== h.seed) inputs.push('seed');
  if (!same(b.params, h.params)) inputs.push('params');
  if (b.env !== h.env) inputs.push('env');
  for (const p of keysOf(b.deps, h.deps)) if (b.deps[p]?.oid !== h.deps[p]?.oid) inputs.push(`deps: ${p}`);
  return { name, status: 'changed', base: side(b), head: side(h), inputs, outputs };
}

/** `{a: {b: 1}}` → `[['a.b', 1]]`; lists and scalars are leaves. */
function flatten(v: unknown, prefix = ''): [string, unknown][] {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length) return entries.flatMap(([k, x]) => flatten(x, prefix ? `${prefix}.${k}` : k));
  }
  return [[prefix, v]];
}

function valueDeltas(run: string, file: string, a: unknown, b: unknown): ValueDelta[] {
  const before = new Map(a === undefined ? [] : flatten(a));
  const after = new Map(b === undefined ? [] : flatten(b));
  const out: ValueDelta[] = [];
  for (const key of [...new Set([...before.keys(), ...after.keys()])]) {
    const d: ValueDelta = { run, file, key, change: 'same' };
    if (before.has(key)) d.base = before.get(key);
    if (after.has(key)) d.head = after.get(key);
    if (!before.has(key)) d.change = 'added';
    else if (!after.has(key)) d.change = 'removed';
    else if (JSON.stringify(d.base) !== JSON.stringify(d.head)) d.change = 'changed';
    if (typeof d.base === 'number' && typeof d.head === 'number') {
      d.delta = d.head - d.base;
      if (d.base !== 0) d.pct = (d.delta / Math.abs(d.base)) * 100;
    }
    out.push(d);
  }
  return out;
}

function envDelta(repo: Repo, run: string, base: Oid, head: Oid): EnvDelta {
  try {
    return { run, base, head, changes: diffStoredEnvironments(repo.store, base, head).changes };
  } catch (err) {
    // Records travel with the cache; one that was never fetched still shows as a changed oid.
    if (!(err instanceof MlxError)) throw err;
    return { run, base, head, note: err.message };
  }
}
