import { keyOf, type Run } from '../formats/run-lock.js';
import { branchesAndTags, commitsFrom, openGit, type GitRepo } from '../git/git-repo.js';
import { unknownRun } from '../util/errors.js';
import type { Repo } from '../workspace/repo.js';
import { isBadRunLock, readRunLock, readRunLockAt } from './lockfile.js';

/** A run as found in the work tree's lockfile or in a commit's. */
export interface CatalogEntry {
  name: string;
  run: Run;
  /** The oldest commit whose mlx.lock holds this run (where it was committed), or null if not yet. */
  commit: string | null;
  /** Branches whose history holds it. */
  branches: string[];
}

export interface Catalog {
  entries: CatalogEntry[];
  /** Lockfiles and branch histories that could not be read (named, then skipped). */
  warnings: string[];
}

/**
 * `mlx runs`: every run recorded in the work tree's mlx.lock and in the mlx.lock of the commits of
 * every branch (newest `depth` commits each), one entry per run record, newest first.
 */
export async function catalog(repo: Repo, opts: { depth?: number } = {}): Promise<Catalog> {
  const git = openGit(repo.root);
  const byRecord = new Map<string, CatalogEntry>();
  const warnings: string[] = [];
  const seenLocks = new Set<string>();
  for (const [name, run] of Object.entries(readRunLock(repo).runs)) byRecord.set(run.record, { name, run, commit: null, branches: [] });
  for (const branch of await listBranches(git, warnings)) {
    let commits: { oid: string }[];
    try {
      commits = await commitsFrom(git, branch, { depth: opts.depth ?? 500 });
    } catch (err) {
      // A branch whose history git cannot walk (a ref to a missing commit) hides only its own runs.
      if (!isGitReadError(err)) throw err;
      warnings.push(`branch ${branch}: its history could not be read (${firstLine(err)}); its runs are not listed`);
      continue;
    }
    for (const { oid } of commits) {
      const lock = await lockAt(git, oid, warnings, seenLocks);
      for (const [name, run] of Object.entries(lock ?? {})) {
        const entry = byRecord.get(run.record) ?? { name, run, commit: oid, branches: [] };
        entry.commit = oid; // walking newest to oldest: ends at the commit that introduced it
        if (!entry.branches.includes(branch)) entry.branches.push(branch);
        byRecord.set(run.record, entry);
      }
    }
  }
  const entries = [...byRecord.values()].sort((a, b) => (a.run.started < b.run.started ? 1 : a.run.started > b.run.started ? -1 : 0));
  return { entries, warnings };
}

/** The local branches; when git cannot list them, the work tree's runs are still listed, with a warning. */
async function listBranches(git: GitRepo, warnings: string[]): Promise<string[]> {
  try {
    return (await branchesAndTags(git)).branches;
  } catch (err) {
    if (!isGitReadError(err)) throw err;
    warnings.push(`the branches could not be listed (${firstLine(err)}); only the runs of the work tree's mlx.lock are shown`);
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

/** A commit's runs; a lockfile that does not parse is named once among the warnings and skipped. */
async function lockAt(git: GitRepo, commit: string, warnings: string[], seen: Set<string>): Promise<Record<string, Run> | undefined> {
  try {
    return (await readRunLockAt(git, commit)).runs;
  } catch (err) {
    if (!isBadRunLock(err)) throw err;
    if (!seen.has(err.message)) warnings.push(err.message);
    seen.add(err.message);
    return undefined;
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
