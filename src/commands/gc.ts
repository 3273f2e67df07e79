import fs from 'node:fs';
import { pruneRecipes } from '../store/chunk-map.js';
import { runLockAt, runObjects, workTreeRunLock, type RunObjects } from '../run/run-objects.js';
import type { Oid } from '../hash/oid.js';
import { isFileEntry, parseManifest } from '../formats/manifest.js';
import type { Pointer } from '../formats/pointer.js';
import { branchesAndTags, openGit, pointersAt, remoteTrackingBranches, resolveRevision, worktreeGitStates, type GitRepo } from '../git/git-repo.js';
import { retainedCommits, type RetentionRules } from '../git/retention.js';
import { E, MlxError, badPointer, badState, isErrno, isMlxError, objectMissing, problemError } from '../util/errors.js';
import { lockCacheForGc } from '../workspace/repository-lock.js';
import { cacheUsers, forgetCacheUser, isGone } from '../workspace/cache-users.js';
import { acquireLock, sweepOrphans } from '../workspace/process-lock.js';
import { findPointers } from '../workspace/pointers.js';
import { openRepo, type Repo } from '../workspace/repo.js';
import { appendAll } from '../util/arrays.js';

export interface GcOptions extends RetentionRules {
  cwd: string;
  dryRun?: boolean;
  /** Objects written less than this long ago are kept: a concurrent add may not have written its pointer yet. */
  keepRecentMs?: number;
  /** Keep going when a kept directory's manifest is missing (its files cannot be protected). */
  force?: boolean;
}

export interface GcResult {
  commits: number;
  /** Other repositories registered on the cache whose needs were kept too. */
  repositories: number;
  keptObjects: number;
  removedObjects: number;
  removedBytes: number;
  dryRun: boolean;
}

/** What gc keeps: the retention rules, and whether unreadable kept pointers are skipped. */
export type KeepRules = RetentionRules & { force?: boolean };

/** A pointer gc keeps, and where it was found. */
export interface KeptPointer {
  path: string;
  pointer: Pointer;
  where: string;
  /**
   * Found in git state beyond this work tree and its HEAD (another worktree's HEAD, an index): a
   * directory whose manifest is not in this cache is skipped, not an error (that worktree may use its own cache).
   */
  optional?: boolean;
}

/** Every oid the given pointers need: files, manifests, and the files manifests list. */
export function referencedObjects(repo: Repo, pointers: Iterable<KeptPointer>, force: boolean): Set<Oid> {
  const keep = new Set<Oid>();
  for (const { path, pointer, where, optional } of pointers) {
    keep.add(pointer.oid);
    if (pointer.kind !== 'dir') continue;
    if (!repo.store.has(pointer.oid)) {
      if (force || optional) continue;
      throw objectMissing(`cannot tell which files ${path} needs at ${where}: its manifest ${pointer.oid} is not in the cache`, {
        hint: 'mlx fetch it first (or mlx checkout that revision), or pass --force to collect anyway',
      });
    }
    for (const e of parseManifest(repo.store.readBytes(pointer.oid).toString('utf8'), pointer.oid).entries) if (isFileEntry(e)) keep.add(e.o);
  }
  return keep;
}

/**
 * `mlx gc`: removes cache objects that no kept pointer needs. Kept: everything the work tree's pointers
 * reach, plus the commits the retention rules name. Recent objects are spared (a concurrent `add` in a
 * repository sharing the cache may not have written its pointer yet).
 */
/** The pointers gc keeps: the work tree's and those of every retained commit. */
export async function keptPointers(repo: Repo, git: GitRepo, opts: KeepRules): Promise<{ commits: number; pointers: KeptPointer[]; runObjects: Oid[] }> {
  const commits = await retainedCommits(git, opts);
  const pointers: KeptPointer[] = [];
  const extra: Oid[] = [];
  const addRuns = (r: RunObjects) => {
    appendAll(extra, r.objects);
    // Inputs whose snapshot is no longer in the cache cannot be protected; they are simply not kept.
    appendAll(pointers, r.artifacts.filter((a) => repo.store.has(a.pointer.oid)));
  };
  addRuns(runObjects(repo, workTreeRunLock(repo, { strict: true }), 'the work tree'));
  for (const commit of commits) addRuns(runObjects(repo, await runLockAt(git, commit, { lenient: opts.force }), commit.slice(0, 12)));
  const work = findPointers(repo);
  if (work.problems.length) throw problemError(work.problems[0]!, { message: `${work.problems[0]!.message} — gc needs every pointer readable` });
  for (const t of work.tracked) pointers.push({ path: t.path, pointer: t.pointer, where: 'the work tree' });
  for (const commit of commits) {
    const at = await pointersAt(git, commit);
    if (at.problems.length && !opts.force) throw badPointer(`${at.problems[0]!.message} — gc needs every kept pointer readable (or --force)`);
    for (const t of at.tracked) pointers.push({ path: t.path, pointer: t.pointer, where: commit.slice(0, 12) });
  }
  // As git gc does: every worktree's HEAD and what its index stages (a pointer added, staged, then re-added).
  for (const wt of await worktreeGitStates(git)) {
    if (wt.problems.length && !opts.force) throw badPointer(`${wt.problems[0]!.message} — gc needs every kept pointer readable (or --force)`);
    for (const t of wt.staged) pointers.push({ path: t.path, pointer: t.pointer, where: `the index of ${wt.gitdir}`, optional: true });
    if (!wt.head || commits.has(wt.head)) continue;
    commits.add(wt.head);
    addRuns(runObjects(repo, await runLockAt(git, wt.head, { lenient: true }), wt.head.slice(0, 12)));
    const at = await pointersAt(git, wt.head);
    if (at.problems.length && !opts.force) throw badPointer(`${at.problems[0]!.message} — gc needs every kept pointer readable (or --force)`);
    for (const t of at.tracked) pointers.push({ path: t.path, pointer: t.pointer, where: `HEAD of ${wt.gitdir}`, optional: true });
  }
  return { commits: commits.size, pointers, runObjects: extra };
}

export async function gc(opts: GcOptions): Promise<GcResult> {
  const repo = await openRepo(opts.cwd);
  const git = openGit(repo.root);
  const release = await acquireLock(repo.layout.lockFile);
  try {
    // No command of a repository sharing the cache runs while this one decides and deletes.
    const releaseCache = await lockCacheForGc(repo.store.root);
    try {
      return await collectCache(repo, git, opts);
    } finally {
      releaseCache();
    }
  } finally {
    release();
  }
}

async function collectCache(repo: Repo, git: GitRepo, opts: GcOptions): Promise<GcResult> {
  const { commits, pointers, runObjects: extra } = await keptPointers(repo, git, opts);
  const keep = referencedObjects(repo, pointers, !!opts.force);
  for (const o of extra) keep.add(o);
  const others = await otherUsersKeep(repo, opts, keep);
  const cutoff = Date.now() - (opts.keepRecentMs ?? 10 * 60_000);
  const result: GcResult = { commits, repositories: others, keptObjects: 0, removedObjects: 0, removedBytes: 0, dryRun: !!opts.dryRun };
  for (const oid of repo.store.list()) {
    if (keep.has(oid)) {
      result.keptObjects++;
      continue;
    }
    const file = repo.store.pathOf(oid);
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) continue; // removed meanwhile (by gc of a repository sharing the cache)
      throw err;
    }
    if (st.mtimeMs > cutoff) {
      result.keptObjects++;
      continue;
    }
    if (!opts.dryRun) fs.rmSync(file, { force: true });
    result.removedObjects++;
    result.removedBytes += st.size;
  }
  if (!opts.dryRun) {
    sweepOrphans(repo, true); // gc lists every fan-out folder anyway
    pruneRecipes(repo.store); // the chunk lists of files that are gone now
  }
  return result;
}

/**
 * Adds to `keep` what every other repository registered on this cache needs, by the same rules (names
 * of branches, tags and revisions that a repository does not have are skipped there). Repositories that
 * no longer exist, or now use another cache, are dropped from the registry. Returns how many were kept for.
 */
async function otherUsersKeep(repo: Repo, opts: GcOptions, keep: Set<Oid>): Promise<number> {
  const here = fs.realpathSync(repo.store.root);
  let count = 0;
  for (const user of cacheUsers(repo.store.root)) {
    if (user.root === repo.root) continue;
    if (isGone(user)) {
      if (!opts.dryRun) forgetCacheUser(user);
      continue;
    }
    try {
      const other = await openRepo(user.root);
      if (fs.realpathSync(other.store.root) !== here) {
        if (!opts.dryRun) forgetCacheUser(user);
        continue;
      }
      const otherGit = openGit(other.root);
      const { pointers, runObjects: extra } = await keptPointers(other, otherGit, await rulesIn(otherGit, opts));
      for (const o of referencedObjects(other, pointers, !!opts.force)) keep.add(o);
      for (const o of extra) keep.add(o);
      count++;
    } catch (err) {
      const errno = err as NodeJS.ErrnoException;
      if (!(err instanceof MlxError) && typeof errno?.code !== 'string') throw err;
      const why = err instanceof MlxError ? err.message : `${errno.code} ${errno.path ?? ''}`.trim();
      throw badState(`cannot tell what ${user.root}, a repository sharing this cache, needs: ${why}; nothing was removed`, {
        hint: `fix that repository (or run mlx gc there); if it no longer uses this cache, remove ${user.file}`,
        repository: user.root,
      });
    }
  }
  return count;
}

/** The retention rules as they apply in another repository: names it lacks are skipped there. */
async function rulesIn(git: GitRepo, rules: KeepRules): Promise<KeepRules> {
  const { branches, tags } = await branchesAndTags(git);
  const tracking = await remoteTrackingBranches(git);
  const hasBranch = (b: string) => branches.includes(b.replace(/^refs\/heads\//, '')) || tracking.includes(b.replace(/^(refs\/)?remotes\//, ''));
  const revs: string[] = [];
  for (const rev of rules.revs ?? []) {
    try {
      await resolveRevision(git, rev);
      revs.push(rev);
    } catch (err) {
      if (!isMlxError(err, E.UNKNOWN_REVISION, E.NO_COMMITS)) throw err; // a revision that repository lacks
    }
  }
  return { ...rules, tips: undefined, branches: rules.branches?.filter(hasBranch), tags: rules.tags?.filter((t) => tags.includes(t)), revs };
}
