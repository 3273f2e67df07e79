import { keyOf, parseRunLock, RUN_LOCK_FILE, type Run } from '../formats/run-lock.js';
import { CommitGraph, historyRefs, openGit, readBlobBytes, rootFileOid, type GitRepo, type HistoryRef } from '../git/git-repo.js';
import { unknownRun } from '../util/errors.js';
import type { Repo } from '../workspace/repo.js';
import { isBadRunLock, readRunLock, runLockSource } from './lockfile.js';

/** A run as found in the work tree's lockfile or in a commit's. */
export interface CatalogEntry {
  name: string;
  run: Run;
  /** The oldest commit whose mlx.lock holds this run (where it was committed), or null if not yet. */
  commit: string | null;
  /** Local branches whose history holds it. */
  branches: string[];
  /**
   * Every ref whose history holds it, as git names them short: local branches (`main`),
   * remote-tracking branches (`origin/exp-lr`) and tags (`v1`), in that order.
   */
  refs: string[];
}

export interface Catalog {
  entries: CatalogEntry[];
  /** Lockfiles and ref histories that could not be read (named, then skipped). */
  warnings: string[];
}

/**
 * `mlx runs`: every run recorded in the work tree's mlx.lock and in the mlx.lock of the commits of
 * every local branch, remote-tracking branch and tag (newest `depth` commits each), one entry per
 * run record, newest first. A fresh clone sees its teammates' runs through `origin/*`. Each commit
 * is read once however many refs reach it, and each distinct mlx.lock once however many commits hold it.
 */
export async function catalog(repo: Repo, opts: { depth?: number } = {}): Promise<Catalog> {
  const git = openGit(repo.root);
  const byRecord = new Map<string, CatalogEntry & { time: number }>();
  const warnings: string[] = [];
  for (const [name, run] of Object.entries(readRunLock(repo).runs)) byRecord.set(run.record, { name, run, commit: null, branches: [], refs: [], time: Infinity });
  const graph = new CommitGraph(git);
  const locks = new LockReader(git, warnings);
  for (const ref of await listRefs(git, warnings)) {
    let commits;
    try {
      commits = await graph.history(ref.oid, opts.depth ?? 500);
    } catch (err) {
      // A ref whose history git cannot walk (a damaged commit) hides only its own runs.
      if (!isGitReadError(err)) throw err;
      warnings.push(`${ref.kind === 'tag' ? 'tag' : 'branch'} ${ref.name}: its history could not be read (${firstLine(err)}); its runs are not listed`);
      continue;
    }
    if (!commits) {
      // A tag of something other than a commit holds no runs; a branch at a missing commit is worth saying.
      if (ref.kind !== 'tag') warnings.push(`branch ${ref.name}: its history could not be read (commit ${ref.oid.slice(0, 12)} is not in this repository); its runs are not listed`);
      continue;
    }
    for (const c of commits) {
      for (const [name, run] of Object.entries((await locks.at(c.oid, c.tree)) ?? {})) {
        let entry = byRecord.get(run.record);
        if (!entry) byRecord.set(run.record, (entry = { name, run, commit: c.oid, branches: [], refs: [], time: c.time }));
        // The oldest commit holding the record is the one that introduced it.
        if (entry.commit === null || c.time <= entry.time) [entry.commit, entry.time] = [c.oid, c.time];
        if (!entry.refs.includes(ref.name)) entry.refs.push(ref.name);
        if (ref.kind === 'branch' && !entry.branches.includes(ref.name)) entry.branches.push(ref.name);
      }
    }
  }
  const entries = [...byRecord.values()]
    .sort((a, b) => (a.run.started < b.run.started ? 1 : a.run.started > b.run.started ? -1 : 0))
    .map(({ time: _time, ...entry }) => entry);
  return { entries, warnings };
}

/** The refs to walk; when git cannot list them, the work tree's runs are still listed, with a warning. */
async function listRefs(git: GitRepo, warnings: string[]): Promise<HistoryRef[]> {
  try {
    return await historyRefs(git);
  } catch (err) {
    if (!isGitReadError(err)) throw err;
    warnings.push(`the branches and tags could not be listed (${firstLine(err)}); only the runs of the work tree's mlx.lock are shown`);
    return [];
  }
}

/** A failure of git or the file system to read (their errors carry a code), not a bug in mlx. */
function isGitReadError(err: unknown): err is Error {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string';
}

function firstLine(err: Error): string {
  return err.message.split('\n')[0]!;
}

/**
 * The runs of commits' lockfiles, remembered by commit and by blob: most commits leave mlx.lock as
 * it was, so a history of hundreds of commits holds a handful of distinct lockfiles to parse. One that
 * does not parse is named once among the warnings and skipped.
 */
class LockReader {
  private readonly byCommit = new Map<string, Record<string, Run> | undefined>();
  private readonly byBlob = new Map<string, Record<string, Run> | undefined>();

  constructor(
    private readonly git: GitRepo,
    private readonly warnings: string[],
  ) {}

  async at(commit: string, tree: string): Promise<Record<string, Run> | undefined> {
    if (this.byCommit.has(commit)) return this.byCommit.get(commit);
    const blob = await rootFileOid(this.git, tree, RUN_LOCK_FILE);
    let runs: Record<string, Run> | undefined;
    if (blob !== undefined && this.byBlob.has(blob)) runs = this.byBlob.get(blob);
    else if (blob !== undefined) {
      try {
        const bytes = await readBlobBytes(this.git, blob);
        runs = bytes && parseRunLock(bytes.toString('utf8'), runLockSource(commit)).runs;
      } catch (err) {
        if (!isBadRunLock(err)) throw err;
        this.warnings.push(err.message);
      }
      this.byBlob.set(blob, runs);
    }
    this.byCommit.set(commit, runs);
    return runs;
  }
}

/**
 * Finds a run in the catalog by id or id prefix (`r-` and at least 4 hex digits), record oid or prefix
 * (`b3:` and at least 8), or name (the newest run of that name).
 */
export async function findRun(repo: Repo, ref: string): Promise<CatalogEntry> {
  return findRunIn((await catalog(repo)).entries, ref);
}

/**
 * `findRun` over catalog entries (newest first). An id or oid prefix must name one run: one matching
 * several is an error listing them. Old lockfiles could hold several executions under one id (ids
 * hashed the inputs then); those are told apart by their record oid.
 */
export function findRunIn(entries: CatalogEntry[], ref: string): CatalogEntry {
  const want = ref.trim().toLowerCase();
  const byId = /^r-[0-9a-f]{4,16}$/.test(want) ? entries.filter((e) => e.run.id.startsWith(want)) : [];
  const byRecord = /^b3:[0-9a-f]{8,64}$/.test(want) ? entries.filter((e) => e.run.record.startsWith(want)) : [];
  const matched = [...byId, ...byRecord];
  const found = matched.length ? matched : entries.filter((e) => e.name === ref);
  if (found.length === 0) {
    const hint = /^r-/.test(want) && byId.length === 0 && !/^r-[0-9a-f]{4,16}$/.test(want) ? 'an id is r- and 4 to 16 hex digits; mlx runs lists them' : 'mlx runs lists them';
    throw unknownRun(`no run ${JSON.stringify(ref)} in mlx.lock or in the history of any branch`, { hint });
  }
  if (matched.length > 1) {
    const sameId = new Set(matched.map((e) => e.run.id)).size === 1;
    const list = matched.slice(0, 5).map((e) => `${sameId ? e.run.record.slice(0, 15) : e.run.id} (${e.name}, ${e.run.started.slice(0, 16).replace('T', ' ')})`);
    throw unknownRun(`${ref} matches ${matched.length} runs: ${list.join(', ')}${matched.length > 5 ? ', …' : ''}`, {
      hint: sameId ? 'these were recorded before ids were unique per execution: give the record oid (b3:…)' : 'give more of the id',
    });
  }
  return found[0]!;
}

/** The other executions with the same input key as `entry` (same command, inputs, seed, environment), newest first. */
export function sameInputs(entries: CatalogEntry[], entry: CatalogEntry): CatalogEntry[] {
  const key = keyOf(entry.run);
  return entries.filter((e) => e.run.record !== entry.run.record && keyOf(e.run) === key);
}
