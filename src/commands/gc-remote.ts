import path from 'node:path';
import { consolidateIndexes, GC_POLICY } from '../remote/consolidate.js';
import { upgradeRemote } from '../remote/layout-upgrade.js';
import { retireRemovals } from '../remote/removal-retire.js';
import { fetchObjects } from '../remote/fetch.js';
import { addRecipeChunks, collectRemote, type RemoteGcResult } from '../remote/remote-gc.js';
import { RemoteIndex } from '../remote/remote-index.js';
import { defaultGitRemote, gitRemoteRefs, openGit, type GitRepo } from '../git/git-repo.js';
import { E, gitRemoteFailed, isMlxError } from '../util/errors.js';
import { keptPointers, referencedObjects, type GcOptions } from './gc.js';
import { resolveRemote } from '../repository/remotes.js';
import { openRepo } from '../workspace/repo.js';

export interface RemoteGcOptions extends GcOptions {
  remoteName?: string;
  /** How old a plan must be before its packs are removed (default one hour). */
  graceMs?: number;
  /** The git remote whose branches and tags are kept (default: the current branch's upstream, else origin). */
  gitRemote?: string;
  /** Keep only what this clone's refs and the rules name; do not ask the git remote. */
  localRefs?: boolean;
}

export interface RemoteGcReport extends RemoteGcResult {
  remote: string;
  commits: number;
  keptObjects: number;
  /** The git remote whose refs were kept, or null with `localRefs`. */
  gitRemote: string | null;
  /** How many of its branches and tags were kept. */
  gitRemoteBranches: number;
  gitRemoteTags: number;
}

/**
 * What a teammate may need: every branch and tag of the git remote. Branches are kept like kept
 * branches (with `--last`/`--days` history), tags at their commit.
 */
async function teamRefs(git: GitRepo, opts: RemoteGcOptions): Promise<{ name: string; branches: string[]; tags: string[] } | undefined> {
  if (opts.localRefs) return undefined;
  const name = opts.gitRemote ?? (await defaultGitRemote(git));
  const hint = 'gc --remote keeps what every branch and tag of the git remote needs; name it with --git-remote, or pass --local-refs to keep only what this clone\'s refs and -b/-t/--rev name';
  if (name === undefined) throw gitRemoteFailed('cannot tell which branches teammates pushed: this repository has no git remote origin and its branch no upstream', { hint });
  let refs;
  try {
    refs = await gitRemoteRefs(git, name);
  } catch (err) {
    if (isMlxError(err, E.GIT_REMOTE)) throw gitRemoteFailed(err.message, { hint, ...err.data });
    throw err;
  }
  return {
    name,
    branches: refs.filter((r) => r.ref.startsWith('refs/heads/')).map((r) => r.oid),
    tags: refs.filter((r) => r.ref.startsWith('refs/tags/')).map((r) => r.oid),
  };
}

/**
 * `mlx gc --remote`: keeps what the retention rules name plus every branch and tag of the git remote,
 * in two phases (mark now, sweep on a later run once the plan is older than the grace period), so that
 * neither a teammate's pushed branch nor a concurrent push loses data.
 */
export async function gcRemote(opts: RemoteGcOptions): Promise<RemoteGcReport> {
  const repo = await openRepo(opts.cwd);
  const git = openGit(repo.root);
  const team = await teamRefs(git, opts);
  const rules: RemoteGcOptions = team ? { ...opts, tips: [...(opts.tips ?? []), ...team.branches], revs: [...(opts.revs ?? []), ...team.tags] } : opts;
  const { commits, pointers, runObjects: extra } = await keptPointers(repo, git, rules);
  const { name, remote } = await resolveRemote(repo, opts.remoteName);
  const cacheRoot = path.join(repo.store.root, 'remotes');
  // A layout-1 or -2 remote is upgraded first: this sweep writes layout 3's removal records.
  if (!opts.dryRun) await upgradeRemote(remote, cacheRoot, repo.newHasher);
  const index = await RemoteIndex.load(remote, cacheRoot);
  // Manifests name the files a directory keeps: bring the ones the cache lacks from the remote.
  const dirs = pointers.filter((p) => p.pointer.kind === 'dir').map((p) => p.pointer.oid);
  await fetchObjects(repo.store, repo.newHasher, remote, index, dirs.filter((o) => index.has(o)));
  const keep = referencedObjects(repo, pointers, !!opts.force);
  for (const o of extra) keep.add(o);
  await addRecipeChunks(remote, index, keep);
  const res = await collectRemote(remote, index, keep, { graceMs: opts.graceMs ?? 60 * 60_000, dryRun: opts.dryRun });
  // What survived the sweep goes into one consolidated index: a fresh clone then reads one file.
  if (!opts.dryRun) {
    await consolidateIndexes(remote, cacheRoot, repo.newHasher, GC_POLICY);
    await retireRemovals(remote, cacheRoot);
  }
  return {
    ...res,
    remote: name,
    commits,
    keptObjects: keep.size,
    gitRemote: team?.name ?? null,
    gitRemoteBranches: team?.branches.length ?? 0,
    gitRemoteTags: team?.tags.length ?? 0,
  };
}
