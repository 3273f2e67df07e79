import path from 'node:path';
import type { Oid } from '../hash/oid.js';
import { openGit } from '../git/git-repo.js';
import { fetchObjects } from '../remote/fetch.js';
import { findDamagedCopies } from '../remote/damage-check.js';
import { dropIncompleteRecipes } from '../remote/recipe-check.js';
import type { Remote } from '../remote/remote.js';
import { RemoteIndex } from '../remote/remote-index.js';
import { E, MlxError, badUsage } from '../util/errors.js';
import { runSteps, runStepsAsync, type AsyncStep, type Step } from '../util/steps.js';
import { resolveRemote } from '../repository/remotes.js';
import { ManifestSource, pointerSet, WORKSPACE, type PointerSet } from '../repository/revisions.js';
import {
  entrySizeProblems, manifestSizeProblems, missingOnRemote, Needs, packsMissing, pointerSizeProblems, sizeProblemsOfSound, type VerifyProblem,
} from '../repository/verify-plan.js';
import { openRepo, type Repo } from '../workspace/repo.js';
import type { Progress } from '../workspace/work-tree.js';

export type { VerifyProblem } from '../repository/verify-plan.js';

export interface VerifyResult {
  rev: string;
  commit?: string;
  /** `cache`, or the remote's name. */
  where: string;
  checked: number;
  problems: VerifyProblem[];
}

export interface VerifyOptions {
  cwd: string;
  /** A commit, branch or tag (default: the work tree). */
  rev?: string;
  /** Check a remote (`remoteName`, else the default) instead of the cache. */
  remote?: boolean;
  remoteName?: string;
  /** With a remote: also download and hash every object. */
  data?: boolean;
  progress?: Progress;
}

/** One verify, as its steps fill it in. */
interface Verifying {
  opts: VerifyOptions;
  repo: Repo;
  set: PointerSet;
  manifests: ManifestSource;
  needs: Needs;
  /** In the order they are reported. */
  problems: VerifyProblem[];
}

/**
 * `mlx verify [--remote] [rev]`: every object the pointers at `rev` (default: the work tree) need is
 * re-hashed in the cache, or looked up in the remote's index with its pack present at the size the
 * index says (with `data`, also read back from the remote and hashed). Problems are listed, not thrown, so CI sees all of them at once.
 */
export async function verify(opts: VerifyOptions): Promise<VerifyResult> {
  if (opts.data && !opts.remote && !opts.remoteName) throw badUsage('--data goes with --remote or -r: the cache is always checked byte for byte');
  const repo = await openRepo(opts.cwd);
  const set = await pointerSet(repo, opts.rev ?? WORKSPACE, openGit(repo.root));
  const base: Verifying = { opts, repo, set, manifests: new ManifestSource(repo), needs: Needs.ofPointers(set.pointers), problems: [] };
  let where = 'cache';
  if (!opts.remote && !opts.remoteName) runSteps({ ...base, sizes: [] }, CACHE_STEPS);
  else {
    const { name, remote } = await resolveRemote(repo, opts.remoteName);
    const index = await RemoteIndex.load(remote, path.join(repo.store.root, 'remotes'));
    await runStepsAsync({ ...base, remote, index, packs: new Map() }, REMOTE_STEPS);
    where = name;
  }
  return { rev: set.label, commit: set.commit, where, checked: base.needs.paths.size, problems: base.problems };
}

/** Checking the cache. */
interface CacheVerifying extends Verifying {
  /** Size problems, reported last and only for objects that hash right. */
  sizes: VerifyProblem[];
}

const CACHE_STEPS: Step<CacheVerifying>[] = [readCachedManifests, checkFilePointerSizes, rehashNeededObjects, reportSizesOfSoundObjects];

/** A directory needs the files its manifest lists; a manifest that does not hash right is reported when it is re-hashed. */
function readCachedManifests({ set, manifests, needs, problems }: CacheVerifying): void {
  for (const [p, ptr] of set.pointers) {
    if (ptr.kind !== 'dir') continue;
    let entries;
    try {
      entries = manifests.entries(ptr.oid);
    } catch (err) {
      if (!(err instanceof MlxError) || err.code !== E.OBJECT_CORRUPT) throw err;
      continue;
    }
    if (!entries) continue;
    needs.addManifest(p, entries);
    problems.push(...manifestSizeProblems(p, ptr, entries));
  }
}

function checkFilePointerSizes({ set, repo, sizes }: CacheVerifying): void {
  for (const [p, ptr] of set.pointers) {
    const size = ptr.kind === 'file' ? repo.store.sizeOf(ptr.oid) : undefined;
    if (size !== undefined) sizes.push(...pointerSizeProblems(p, ptr, size));
  }
}

/** Every needed object is hashed again; its size is checked against what the manifests claim. */
function rehashNeededObjects({ opts: { progress }, repo, needs, problems, sizes }: CacheVerifying): void {
  progress?.({ phase: 'hashing objects', totalFiles: needs.paths.size });
  for (const [oid, paths] of needs.paths) {
    try {
      const size = repo.store.verify(oid, progress ? (n) => progress({ bytes: n }) : undefined);
      sizes.push(...entrySizeProblems(oid, needs.claims.get(oid), size));
    } catch (err) {
      if (!(err instanceof MlxError)) throw err;
      problems.push({ oid, paths, problem: err.code === E.OBJECT_CORRUPT ? 'corrupt' : 'missing' });
    }
    progress?.({ files: 1 });
  }
}

function reportSizesOfSoundObjects(ctx: CacheVerifying): void {
  ctx.problems.push(...sizeProblemsOfSound(ctx.problems, ctx.sizes));
}

/** Checking a remote. */
interface RemoteVerifying extends Verifying {
  remote: Remote;
  index: RemoteIndex;
  /** The packs holding the needed objects, with the size their index says. */
  packs: Map<string, number>;
}

const REMOTE_STEPS: AsyncStep<RemoteVerifying>[] = [
  fetchManifests, readManifests, checkBlobSizes, dropUnbuildableRecipes, findMissingObjects, readBackData, findMissingPacks,
];

/** Manifests say which files a directory needs: read them from the cache, or from the remote itself. */
async function fetchManifests({ repo, remote, index, set }: RemoteVerifying): Promise<void> {
  const dirs = [...set.pointers.values()].filter((p) => p.kind === 'dir').map((p) => p.oid);
  await fetchObjects(repo.store, repo.newHasher, remote, index, dirs.filter((o) => index.has(o)));
}

/** Each file pointer's size, from its blob's index entry (a chunked file's is in its recipe, not read here); each manifest's files. */
function readManifests({ set, index, manifests, needs, problems }: RemoteVerifying): void {
  for (const [p, ptr] of set.pointers) {
    if (ptr.kind !== 'dir') {
      const entry = index.locate(ptr.oid)?.entry;
      if (entry?.t === 'b') problems.push(...pointerSizeProblems(p, ptr, entry.raw));
      continue;
    }
    const entries = manifests.entries(ptr.oid);
    if (!entries) continue;
    needs.addManifest(p, entries);
    problems.push(...manifestSizeProblems(p, ptr, entries));
  }
}

/** The sizes manifests claim, against the remote's blobs. */
function checkBlobSizes({ needs, index, problems }: RemoteVerifying): void {
  for (const [oid, claims] of needs.claims) {
    const entry = index.locate(oid)?.entry;
    if (entry?.t === 'b') problems.push(...entrySizeProblems(oid, claims, entry.raw));
  }
}

/** A large file whose recipe names a chunk the remote lacks counts as missing. */
async function dropUnbuildableRecipes({ remote, index, needs }: RemoteVerifying): Promise<void> {
  await dropIncompleteRecipes(remote, index, needs.paths.keys());
}

function findMissingObjects(ctx: RemoteVerifying): void {
  const { problems, packs } = missingOnRemote(ctx.needs, ctx.index);
  ctx.problems.push(...problems);
  ctx.packs = packs;
}

/** With `data`: every copy the remote would serve is read back and hashed (chunks of large files included). */
async function readBackData({ opts, remote, index, repo, needs, problems }: RemoteVerifying): Promise<void> {
  if (!opts.data) return;
  const damage = await findDamagedCopies(remote, index, repo.newHasher, needs.paths.keys());
  const bad = new Set<Oid>([...damage.files, ...damage.damaged.map((d) => d.oid)]);
  for (const [oid, paths] of needs.paths) if (bad.has(oid)) problems.push({ oid, paths, problem: 'corrupt' });
}

async function findMissingPacks({ remote, needs, index, packs, problems }: RemoteVerifying): Promise<void> {
  problems.push(...packsMissing(needs, index, packs, await remote.list('packs/')));
}
