import { isFileEntry, parseManifest } from '../formats/manifest.js';
import { POINTER_SUFFIX } from '../formats/pointer.js';
import { keyOf, RUN_LOCK_FILE, type OutputFormat, type Run } from '../formats/run-lock.js';
import type { Oid } from '../hash/oid.js';
import { defaultGitRemote, mergeBase, openGit, resolveRevision, symbolicRefTarget, uncommittedChanges, type GitRepo } from '../git/git-repo.js';
import { E, MlxError, isMlxError, reworded } from '../util/errors.js';
import { diff, type PathChange } from '../repository/diff.js';
import { resolveRemote } from '../repository/remotes.js';
import { openRemoteIndex } from '../repository/transfer.js';
import { loadConfig } from '../workspace/config-file.js';
import type { Repo } from '../workspace/repo.js';
import { WORKSPACE } from '../repository/revisions.js';
import { diffStoredEnvironments, type EnvChange } from './env-diff.js';
import { historyCharts, type HistoryChart } from './history-chart.js';
import { artifactId, lineage, runNodeId, type Lineage } from './lineage.js';
import { readRunHistories, type RunHistories } from './metric-history.js';
import { readRunLock, readRunLockAt } from './lockfile.js';

/** What a run became between base and head. `rerun`: same inputs (same key), recorded again. */
export type RunStatus = 'added' | 'removed' | 'changed' | 'rerun' | 'unchanged';

export interface RunDelta {
  name: string;
  status: RunStatus;
  base?: { id: string; record: Oid };
  head?: { id: string; record: Oid };
  /** For `changed`: which inputs differ: `cmd`, `seed`, `seeds`, `params`, `overrides`, `env`, `deps: <path>`. */
  inputs: string[];
  /** Outputs whose content differs (for `changed` and `rerun`), or all outputs of an added run. */
  outputs: string[];
  /** What the headers of those outputs (or checkpoint files inside them) say at head, when they are in a known format. */
  formats?: Record<string, OutputFormat>;
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

/**
 * Whether the mlx remote has the objects the head side brings (changed data, its directories'
 * changed files, and the records of new and changed runs): what a reviewer needs to pull.
 */
export interface RemoteCoverage {
  /** `present`: the remote has all of them; `missing`: it lacks `missing` of them; `no-remote`: none is configured; `unreachable`: it could not be asked. */
  state: 'present' | 'missing' | 'no-remote' | 'unreachable';
  /** The default mlx remote's name, when one is configured. */
  remote?: string;
  /** How many objects were looked up. */
  checked: number;
  missing: number;
  /** For `unreachable`: why, in one line. */
  error?: string;
}

/** A pull-request review: what changed in data, runs, params, metrics and environments, and why. */
export interface Report {
  base: { rev: string; commit: string; how: string };
  /**
   * For the work tree (`rev: workspace`): `dirty` says whether it differs from HEAD's commit
   * (`uncommitted`: how many paths git status lists, counting untracked pointer files and mlx.lock).
   */
  head: { rev: string; commit?: string; dirty?: boolean; uncommitted?: number };
  remote: RemoteCoverage;
  data: PathChange[];
  runs: RunDelta[];
  params: ValueDelta[];
  metrics: ValueDelta[];
  environment: EnvDelta[];
  /** The lineage of the outputs that changed at head, or null when no run output changed. */
  lineage: Lineage | null;
  /** Lineage node ids that are new or changed at head, for highlighting. */
  changedNodes: string[];
  /**
   * The metric histories of added, changed and re-run runs, base against head, downsampled for a
   * picture (at most MAX_REPORT_CHARTS; `chartsLeftOut` counts the rest: charts, and the metrics of
   * runs not read once the report was full).
   */
  charts: HistoryChart[];
  chartsLeftOut: number;
  warnings: string[];
}

/** A pull-request comment stays short: so many metric charts in all, and so many per run. */
export const MAX_REPORT_CHARTS = 12;
export const MAX_RUN_CHARTS = 6;

/**
 * `mlx report [base] [head]`: compares `base` (default: the merge base of HEAD with the upstream
 * default branch, see `defaultBase`) with `head` (default: the work tree).
 */
export async function report(repo: Repo, opts: { base?: string; head?: string } = {}): Promise<Report> {
  const git = openGit(repo.root);
  const base = opts.base === undefined ? await defaultBase(git) : { rev: opts.base, commit: await resolveRevision(git, opts.base), how: 'as given' };
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
  const { charts, chartsLeftOut } = reportCharts(repo, runs, baseRuns, headRuns, warnings);
  const head: Report['head'] = { rev: headRev, ...(headCommit ? { commit: headCommit } : {}) };
  if (opts.head === undefined && headCommit) {
    const changes = (await uncommittedChanges(git))?.filter((c) => c.tracked || c.path.endsWith(POINTER_SUFFIX) || c.path.split('/').pop() === RUN_LOCK_FILE);
    if (changes) Object.assign(head, { dirty: changes.length > 0, uncommitted: changes.length });
  }
  return {
    base,
    head,
    remote: await remoteCoverage(repo, headObjects(repo, data, runs, headRuns)),
    data,
    runs,
    params,
    metrics,
    environment,
    lineage: graph,
    changedNodes: changedNodes.filter((id) => graph?.nodes.some((n) => n.id === id)),
    charts,
    chartsLeftOut,
    warnings,
  };
}

/**
 * The history charts of the runs a review looks at (added, changed, re-run). A side whose history is
 * not in the cache is left out with a warning: the report never fails for a picture.
 */
function reportCharts(repo: Repo, runs: RunDelta[], baseRuns: Record<string, Run>, headRuns: Record<string, Run>, warnings: string[]): { charts: HistoryChart[]; chartsLeftOut: number } {
  const read = (name: string, run: Run | undefined): RunHistories | undefined => {
    if (!run?.histories) return undefined;
    try {
      return readRunHistories(repo, { name, run });
    } catch (err) {
      if (!isMlxError(err, E.OBJECT_MISSING)) throw err;
      warnings.push(`${err.message}: its chart is left out (mlx fetch brings it)`);
      return undefined;
    }
  };
  const all: HistoryChart[] = [];
  let leftOut = 0;
  for (const r of runs) {
    if (r.status !== 'added' && r.status !== 'changed' && r.status !== 'rerun') continue;
    const [b, h] = [r.status === 'added' ? undefined : baseRuns[r.name], headRuns[r.name]];
    if (all.length >= MAX_REPORT_CHARTS) {
      // Full already: the run's metrics are counted from the summaries, not read (a sweep's logs are large).
      leftOut += new Set([b, h].flatMap((run) => Object.values(run?.histories ?? {}).flatMap((x) => x.metrics))).size;
      continue;
    }
    const charts = historyCharts(r.name, read(r.name, b), read(r.name, h));
    all.push(...charts.slice(0, MAX_RUN_CHARTS));
    leftOut += Math.max(0, charts.length - MAX_RUN_CHARTS);
  }
  return { charts: all.slice(0, MAX_REPORT_CHARTS), chartsLeftOut: leftOut + Math.max(0, all.length - MAX_REPORT_CHARTS) };
}

/**
 * The base a pull request is reviewed against: the merge base of HEAD with the upstream default
 * branch. That branch is, of the default git remote (the current branch's upstream remote, else
 * origin), the one its `HEAD` points at, else its `main` or `master`; without any, a local `main` or
 * `master`. When HEAD is already in that branch (on main), or no merge base is here (a shallow clone),
 * or there is no such branch: `HEAD~1`. `how` says which and why.
 */
async function defaultBase(git: GitRepo): Promise<Report['base']> {
  const askForBase = (err: unknown): never => {
    if (isMlxError(err, E.UNKNOWN_REVISION, E.NO_COMMITS)) throw reworded(err, err.message, { hint: 'name the base to compare with: mlx report <rev>' });
    throw err;
  };
  const head = await resolveRevision(git, 'HEAD').catch(askForBase);
  const upstream = await upstreamDefaultBranch(git);
  let why = 'missing' in upstream ? upstream.missing : '';
  if (!('missing' in upstream)) {
    const base = await mergeBase(git, head, upstream.ref);
    if (base && base !== head) return { rev: upstream.name, commit: base, how: `default: merge-base with ${upstream.name} (${base.slice(0, 8)}), ${upstream.why}` };
    why = base ? `HEAD is already in ${upstream.name}` : `HEAD and ${upstream.name} have no merge base in this repository (a shallow clone? git fetch --unshallow)`;
  }
  const commit = await resolveRevision(git, 'HEAD~1').catch(askForBase);
  return { rev: 'HEAD~1', commit, how: `default: the parent commit (${why})` };
}

/** The branch a pull request from HEAD goes into, as a ref, how it was chosen, or (`missing`) why there is none. */
async function upstreamDefaultBranch(git: GitRepo): Promise<{ name: string; ref: string; why: string } | { missing: string }> {
  const exists = (ref: string) => resolveRevision(git, ref).then(() => true, unlessNoSuchRevision);
  const remote = await defaultGitRemote(git);
  if (remote) {
    const target = await symbolicRefTarget(git, `refs/remotes/${remote}/HEAD`);
    if (target && (await exists(target))) return { name: target.replace(/^refs\/remotes\//, ''), ref: target, why: `the default branch of ${remote} (${remote}/HEAD)` };
    for (const b of ['main', 'master']) {
      const ref = `refs/remotes/${remote}/${b}`;
      if (await exists(ref)) return { name: `${remote}/${b}`, ref, why: `the branch ${b} of ${remote} (${remote}/HEAD is not set here)` };
    }
  }
  for (const b of ['main', 'master']) {
    const ref = `refs/heads/${b}`;
    if (await exists(ref)) return { name: b, ref, why: remote ? `a local branch (${remote} has no HEAD, main or master here)` : 'a local branch (there is no git remote)' };
  }
  const where = remote ? `${remote}/HEAD, ${remote}/main, ${remote}/master, ` : '';
  return { missing: `there is no ${where}main or master to compare with` };
}

/** The objects the head side brings: changed data (a directory's manifest and its changed files), new and changed runs' records. */
function headObjects(repo: Repo, data: PathChange[], runs: RunDelta[], headRuns: Record<string, Run>): Oid[] {
  const oids = new Set<Oid>();
  for (const c of data) {
    if (c.change === 'deleted' || !c.newOid) continue;
    oids.add(c.newOid);
    if (c.kind !== 'dir' || !repo.store.has(c.newOid)) continue;
    const changed = c.files && new Set(c.files.filter((f) => f.change !== 'deleted').map((f) => f.path));
    try {
      for (const e of parseManifest(repo.store.readBytes(c.newOid).toString('utf8'), c.newOid).entries) {
        if (isFileEntry(e) && (!changed || changed.has(e.p))) oids.add(e.o);
      }
    } catch (err) {
      if (!(err instanceof MlxError)) throw err; // a damaged manifest: verify says so; its files go unchecked here
    }
  }
  for (const r of runs) {
    const run = headRuns[r.name];
    if (!run || !(r.status === 'added' || r.status === 'changed' || r.status === 'rerun')) continue;
    oids.add(run.record).add(run.env);
    for (const h of Object.values(run.histories ?? {})) oids.add(h.oid);
  }
  return [...oids];
}

/** Looks the objects up on the default mlx remote; a remote that cannot be asked is reported, never fatal. */
async function remoteCoverage(repo: Repo, oids: Oid[]): Promise<RemoteCoverage> {
  const name = loadConfig(repo.layout).core?.remote;
  if (!name) return { state: 'no-remote', checked: 0, missing: 0 };
  try {
    const index = await openRemoteIndex(repo, (await resolveRemote(repo, undefined)).remote);
    const missing = oids.filter((o) => !index.has(o)).length;
    return { state: missing ? 'missing' : 'present', remote: name, checked: oids.length, missing };
  } catch (err) {
    // A review must come out offline too: say the remote could not be asked, and go on.
    const code = (err as { code?: unknown } | undefined)?.code;
    if (!(err instanceof MlxError) && typeof code !== 'string') throw err;
    return { state: 'unreachable', remote: name, checked: 0, missing: 0, error: (err as Error).message.split('\n')[0] };
  }
}

/** A `.catch` for revisions that may not exist (or a HEAD with no commits yet): undefined then, else rethrown. */
function unlessNoSuchRevision(err: unknown): undefined {
  if (isMlxError(err, E.UNKNOWN_REVISION, E.NO_COMMITS)) return undefined;
  throw err;
}

function keysOf(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
}

/** The head run's output formats that belong to `outputs` (the output itself, or a file inside it). */
function formatsOf(run: Run, outputs: string[]): Pick<RunDelta, 'formats'> {
  const picked = Object.entries(run.formats ?? {}).filter(([p]) => outputs.some((o) => p === o || p.startsWith(`${o}/`)));
  return picked.length ? { formats: Object.fromEntries(picked) } : {};
}

function runDelta(name: string, b: Run | undefined, h: Run | undefined): RunDelta {
  const delta = runDeltaOnly(name, b, h);
  return h ? { ...delta, ...formatsOf(h, delta.outputs) } : delta;
}

function runDeltaOnly(name: string, b: Run | undefined, h: Run | undefined): RunDelta {
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
  if (!same(b.seeds ?? {}, h.seeds ?? {})) inputs.push('seeds');
  if (!same(b.params, h.params)) inputs.push('params');
  if (!same(b.overrides ?? [], h.overrides ?? [])) inputs.push('overrides');
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
