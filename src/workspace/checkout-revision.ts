import fs from 'node:fs';
import path from 'node:path';
import { isFileEntry } from '../formats/manifest.js';
import { POINTER_SUFFIX, serializePointer, type Pointer } from '../formats/pointer.js';
import { openGit, readFileAt, resolveRevision } from '../git/history.js';
import { E, MlxError } from '../util/errors.js';
import { readFileIfExists, writeFileAtomicSync } from '../util/fs.js';
import { checkout, type CheckoutOptions, type CheckoutResult } from './checkout.js';
import { loadConfig } from './config-file.js';
import { pointerFileOf, readPointer } from './pointers.js';
import type { Repo } from './repo.js';
import { ManifestSource, pointerSet, WORKSPACE } from './revisions.js';
import { fetch } from './sync.js';

export interface RevisionCheckoutResult extends CheckoutResult {
  rev: string;
  commit: string;
  pointersWritten: string[];
  fetched: number;
  /** Tracked in the work tree but not at the revision: left as they are. */
  notAtRevision: string[];
}

/** The run lockfile travels with the data it describes. */
const LOCKFILE = 'mlx.lock';

/**
 * `mlx checkout <rev>`: the tracked data (pointer files, data and the run lockfile) as it was at a
 * commit, branch or tag, fetching objects missing from the cache from the default remote. Pointer
 * files edited but not committed are not overwritten unless `force`.
 */
export async function checkoutRevision(repo: Repo, rev: string, opts: CheckoutOptions = {}): Promise<RevisionCheckoutResult> {
  const git = openGit(repo.root);
  const commit = await resolveRevision(git, rev);
  const target = await pointerSet(repo, commit, git);
  const work = await pointerSet(repo, WORKSPACE, git);
  const head = await pointerSet(repo, 'HEAD', git).catch(() => undefined);
  const previous = lastRevision(repo);
  const before = previous ? await pointerSet(repo, previous, git).catch(() => undefined) : undefined;

  // A pointer that differs from HEAD, from the target and from the revision mlx last checked out holds
  // work that was never committed.
  const unsaved = [...target.pointers.keys()].filter((p) => {
    const now = work.pointers.get(p);
    return now && ![target, head, before].some((set) => set?.pointers.get(p)?.oid === now.oid);
  });
  if (unsaved.length > 0 && !opts.force) {
    throw new MlxError(E.LOCAL_CHANGES, `${unsaved.length} pointer(s) have changes that are not committed: ${unsaved.slice(0, 3).join(', ')}`, {
      hint: 'commit them first, or pass --force to replace them',
      data: { paths: unsaved },
    });
  }

  const written: string[] = [];
  for (const [p, pointer] of target.pointers) {
    const current = readPointer(repo, p)?.pointer;
    if (current && samePointer(current, pointer)) continue;
    writeFileAtomicSync(pointerFileOf(repo, p), serializePointer({ ...pointer, path: p }));
    written.push(p);
  }
  const lock = await readFileAt(git, commit, LOCKFILE);
  const lockPath = path.join(repo.root, LOCKFILE);
  if (lock) writeFileAtomicSync(lockPath, lock);

  // Fetch what the cache lacks, when a remote is there to ask.
  const paths = [...target.pointers.keys()];
  let fetched = 0;
  if (paths.length > 0 && loadConfig(repo.layout).core?.remote && (await needsFetch(repo, target.pointers))) {
    fetched = (await fetch(repo, repo.root, paths)).fetched;
  }
  const result = paths.length > 0 ? await checkout(repo, repo.root, paths, opts) : { paths: [] };
  writeFileAtomicSync(path.join(repo.layout.stateDir, REVISION_FILE), `${commit}\n`);
  return {
    ...result,
    rev,
    commit,
    pointersWritten: written,
    fetched,
    notAtRevision: [...work.pointers.keys()].filter((p) => !target.pointers.has(p)),
  };
}

/** Where `checkout <rev>` remembers the commit whose pointers it wrote. */
const REVISION_FILE = 'revision';

function lastRevision(repo: Repo): string | undefined {
  const text = readFileIfExists(path.join(repo.layout.stateDir, REVISION_FILE))?.trim();
  return text && /^[0-9a-f]{40}$/.test(text) ? text : undefined;
}

function samePointer(a: Pointer, b: Pointer): boolean {
  return a.kind === b.kind && a.oid === b.oid && a.size === b.size;
}

async function needsFetch(repo: Repo, pointers: Map<string, Pointer>): Promise<boolean> {
  const tops = [...pointers.values()].map((p) => p.oid);
  if (repo.store.missing(tops).size > 0) return true;
  const manifests = new ManifestSource(repo);
  for (const p of pointers.values()) {
    if (p.kind !== 'dir') continue;
    const files = (manifests.entries(p.oid) ?? []).filter(isFileEntry).map((e) => e.o);
    if (repo.store.missing(files).size > 0) return true;
  }
  return false;
}

/**
 * Tells `mlx checkout <rev>` from `mlx checkout <path>`: the first argument is a revision when it is
 * neither a path in the work tree nor a tracked path, and git resolves it.
 */
export async function revisionArgument(repo: Repo, cwd: string, args: string[]): Promise<string | undefined> {
  const first = args[0];
  if (first === undefined) return undefined;
  const abs = path.resolve(cwd, first);
  if (fs.existsSync(abs) || fs.existsSync(`${abs}${POINTER_SUFFIX}`)) return undefined;
  try {
    await resolveRevision(openGit(repo.root), first);
  } catch (err) {
    // `HEAD~3` and the like can only mean a revision: say why it does not resolve.
    if (err instanceof MlxError && err.code === E.UNKNOWN_REVISION && (/no commits yet/.test(err.message) || /[~^]/.test(first))) throw err;
    return undefined;
  }
  if (args.length > 1) throw new MlxError(E.USAGE, `mlx checkout ${first} takes no paths: it restores every tracked path as it was at ${first}`);
  return first;
}
