import type { Oid } from '../hash/oid.js';
import { parseManifest, type ManifestEntry } from '../formats/manifest.js';
import { POINTER_SUFFIX, type Pointer } from '../formats/pointer.js';
import { openGit, pointersAt, resolveRevision, type GitRepo } from '../git/git-repo.js';
import { fetchObjects } from '../remote/fetch.js';
import { RemoteIndex } from '../remote/remote-index.js';
import { E, MlxError, badUsage, isMlxError, problemError } from '../util/errors.js';
import { findPointers } from '../workspace/pointers.js';
import { loadConfig } from '../workspace/config-file.js';
import { resolveRemote } from './remotes.js';
import type { Repo } from '../workspace/repo.js';
import fs from 'node:fs';
import path from 'node:path';

/** One side of a comparison: the pointers of a commit, or of the work tree. */
export interface PointerSet {
  /** `HEAD`, a revision as typed, or `workspace`. */
  label: string;
  commit?: string;
  pointers: Map<string, Pointer>;
}

export const WORKSPACE = 'workspace';

/** The pointers at `rev` (committed) or, for `workspace`, in the work tree. Malformed pointers fail. */
export async function pointerSet(repo: Repo, rev: string, git: GitRepo = openGit(repo.root)): Promise<PointerSet> {
  if (rev === WORKSPACE) {
    const scan = findPointers(repo);
    if (scan.problems.length) throw problemError(scan.problems[0]!);
    return { label: rev, pointers: new Map(scan.tracked.map((t) => [t.path, t.pointer])) };
  }
  const commit = await resolveRevision(git, rev);
  const { tracked, problems } = await pointersAt(git, commit);
  if (problems.length) throw problemError(problems[0]!);
  return { label: rev, commit, pointers: new Map(tracked.map((t) => [t.path, t.pointer])) };
}

/**
 * Reads directory manifests from the cache, fetching the missing ones (manifests only, never file
 * data) from the default remote when one is configured. Returns undefined for a manifest that is
 * nowhere to be had, so callers can still report the directory as a whole.
 */
export class ManifestSource {
  constructor(private readonly repo: Repo) {}

  /** A manifest's entries from the cache (call `prefetch` first), or undefined when it is not there. */
  entries(oid: Oid): ManifestEntry[] | undefined {
    if (!this.repo.store.has(oid)) return undefined;
    return parseManifest(this.repo.store.readBytes(oid).toString('utf8'), oid).entries;
  }

  /** Brings the missing ones of these manifests from the default remote, in one batch. */
  async prefetch(oids: Oid[]): Promise<void> {
    const missing = [...this.repo.store.missing(oids)];
    if (missing.length === 0 || !loadConfig(this.repo.layout).core?.remote) return;
    try {
      const { remote } = await resolveRemote(this.repo, undefined);
      const index = await RemoteIndex.load(remote, path.join(this.repo.store.root, 'remotes'));
      await fetchObjects(this.repo.store, this.repo.newHasher, remote, index, missing);
    } catch (err) {
      // Listing must work offline: without the remote, the directory is shown without its files.
      if (!(err instanceof MlxError)) throw err;
    }
  }
}

/**
 * Tells a revision argument from a path (`mlx checkout <rev>` or `<path>`, `mlx ls <rev>` or `<path>`): the first argument is a revision when it is
 * neither a path in the work tree nor a tracked path, and git resolves it.
 */
export async function revisionArgument(repo: Repo, cwd: string, args: string[]): Promise<string | undefined> {
  const first = args[0];
  if (first === undefined) return undefined;
  const abs = path.resolve(cwd, first);
  // A name starting with `-` is no revision git would take: a path (or nothing) it is.
  if (first.startsWith('-') || fs.existsSync(abs) || fs.existsSync(`${abs}${POINTER_SUFFIX}`)) return undefined;
  try {
    await resolveRevision(openGit(repo.root), first);
  } catch (err) {
    // `HEAD~3`, `HEAD@{1}`, `:/message` and the like can only mean a revision: say why it does not resolve.
    if (isMlxError(err, E.NO_COMMITS) || (isMlxError(err, E.UNKNOWN_REVISION) && /[~^]|@\{|^:\//.test(first))) throw err;
    if (isMlxError(err, E.UNKNOWN_REVISION)) return undefined; // no such revision: the argument is a path
    throw err;
  }
  if (args.length > 1) throw badUsage(`mlx checkout ${first} takes no paths: it restores every tracked path as it was at ${first}`);
  return first;
}
