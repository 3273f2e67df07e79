import path from 'node:path';
import { isFileEntry, type FileEntry, type ManifestEntry } from '../formats/manifest.js';
import { sameContent, serializePointer, type Pointer } from '../formats/pointer.js';
import { openGit, resolveRevision } from '../git/git-repo.js';
import { ManifestSource, pointerSet, revisionArgument, WORKSPACE } from '../repository/revisions.js';
import { fetchSelection } from '../repository/transfer.js';
import { runLockBytesAt, runLockPath } from '../run/lockfile.js';
import { MlxError, localChanges, reworded } from '../util/errors.js';
import { readFileIfExists } from '../util/fs.js';
import { checkout as checkoutPaths, checkoutSelection, type CheckoutOptions as WorkTreeCheckoutOptions, type CheckoutResult } from '../workspace/checkout.js';
import { loadConfig } from '../workspace/config-file.js';
import { keepPartial, PartialCheckouts } from '../workspace/partial-checkout.js';
import { pointerFileOf, readPointer } from '../workspace/pointers.js';
import { openRepo, type Repo } from '../workspace/repo.js';
import type { Selection } from '../workspace/targets.js';
import { writeFilesUndoably, type FileWrite, type Undo } from '../workspace/undoable-writes.js';

export type { CheckoutResult } from '../workspace/checkout.js';

export interface CheckoutOptions extends WorkTreeCheckoutOptions {
  cwd: string;
  /** Tracked paths (or paths inside them), or one revision; none means every tracked path. */
  args?: string[];
}

/**
 * `mlx checkout [rev | paths...]`: one entry for both forms. A first argument that is neither a path
 * in the work tree nor a tracked path, and that git resolves, is a revision.
 */
export async function checkout(opts: CheckoutOptions): Promise<CheckoutResult | RevisionCheckoutResult> {
  const repo = await openRepo(opts.cwd);
  const args = opts.args ?? [];
  const rev = await revisionArgument(repo, opts.cwd, args);
  if (rev === undefined) return checkoutPaths(repo, opts.cwd, args, opts);
  return checkoutRevision(repo, rev, opts);
}

/** `mlx checkout <rev>` for callers that know `rev` is a revision (a path of that name is not looked for). */
export async function checkoutAtRevision(opts: WorkTreeCheckoutOptions & { cwd: string; rev: string }): Promise<RevisionCheckoutResult> {
  return checkoutRevision(await openRepo(opts.cwd), opts.rev, opts);
}

/** Whether a checkout restored a revision (and so reports its commit and fetches). */
export function isRevisionCheckout(res: CheckoutResult | RevisionCheckoutResult): res is RevisionCheckoutResult {
  return 'commit' in res;
}

export interface RevisionCheckoutResult extends CheckoutResult {
  rev: string;
  commit: string;
  pointersWritten: string[];
  fetched: number;
  /** Tracked in the work tree but not at the revision: left as they are. */
  notAtRevision: string[];
}


/**
 * `mlx checkout <rev>`: the tracked data (pointer files, data and the run lockfile) as it was at a
 * commit, branch or tag, fetching objects missing from the cache from the default remote. Pointer
 * files edited but not committed are not overwritten unless `force`.
 */
async function checkoutRevision(repo: Repo, rev: string, opts: WorkTreeCheckoutOptions): Promise<RevisionCheckoutResult> {
  const git = openGit(repo.root);
  const commit = await resolveRevision(git, rev);
  const target = await pointerSet(repo, commit, git);
  const work = await pointerSet(repo, WORKSPACE, git);
  // No commits yet, broken pointers there, or a previous revision since gone: compared without it (more
  // pointers then count as unsaved). Other failures are real ones.
  const head = await pointerSet(repo, 'HEAD', git).catch(unlessMlxError);
  const previous = lastRevision(repo);
  const before = previous ? await pointerSet(repo, previous, git).catch(unlessMlxError) : undefined;

  // A pointer that differs from HEAD, from the target and from the revision mlx last checked out holds
  // work that was never committed.
  const unsaved = [...target.pointers.keys()].filter((p) => {
    const now = work.pointers.get(p);
    return now && ![target, head, before].some((set) => {
      const then = set?.pointers.get(p);
      return then !== undefined && sameContent(then, now);
    });
  });
  if (unsaved.length > 0 && !opts.force) {
    throw localChanges(`${unsaved.length} pointer(s) have changes that are not committed: ${unsaved.slice(0, 3).join(', ')}`, {
      hint: 'commit them first, or pass --force to replace them',
      paths: unsaved,
    });
  }

  // Everything the revision needs is fetched and checked before its pointers are written, and the
  // pointers, lockfile and revision record written are put back if the checkout then fails.
  // A partial checkout stays partial (as git's sparse checkout does): the parts asked for, at the revision.
  const whole: Selection[] = [...target.pointers].map(([p, pointer]) => ({ tracked: { path: p, pointerFile: pointerFileOf(repo, p), pointer: { ...pointer, path: p } } }));
  const selection = keepPartial(PartialCheckouts.load(repo.layout), whole);
  let fetched = 0;
  if (selection.length > 0 && loadConfig(repo.layout).core?.remote && (await needsFetch(repo, selection))) {
    fetched = (await fetchSelection(repo, selection)).fetched;
  }
  const written: string[] = [];
  const writes: FileWrite[] = [];
  for (const { tracked } of selection.filter((s, i) => selection.findIndex((o) => o.tracked.path === s.tracked.path) === i)) {
    const current = readPointer(repo, tracked.path)?.pointer;
    if (current && samePointer(current, tracked.pointer)) continue;
    writes.push({ file: tracked.pointerFile, data: serializePointer(tracked.pointer) });
    written.push(tracked.path);
  }
  const lock = await runLockBytesAt(git, commit);
  if (lock) writes.push({ file: runLockPath(repo), data: lock });
  writes.push({ file: path.join(repo.layout.stateDir, REVISION_FILE), data: `${commit}\n` });

  let undo: Undo | undefined;
  let result: CheckoutResult;
  try {
    result = await checkoutSelection(repo, selection, opts, () => {
      undo = writeFilesUndoably(writes);
    });
  } catch (err) {
    throw undoAfter(err, undo);
  }
  return {
    ...result,
    rev,
    commit,
    pointersWritten: written,
    fetched,
    notAtRevision: [...work.pointers.keys()].filter((p) => !target.pointers.has(p)),
  };
}

function unlessMlxError(err: unknown): undefined {
  if (err instanceof MlxError) return undefined;
  throw err;
}

/** The error to report when checkout failed after writing: the first, unless putting back failed too. */
function undoAfter(err: unknown, undo: Undo | undefined): unknown {
  try {
    undo?.();
    return err;
  } catch (undoErr) {
    const why = err instanceof Error ? err.message : String(err);
    if (!(undoErr instanceof MlxError)) return undoErr;
    return reworded(undoErr, `checkout failed (${why}), and ${undoErr.message}`, { hint: undoErr.hint, cause: err });
  }
}

/** Where `checkout <rev>` remembers the commit whose pointers it wrote. */
const REVISION_FILE = 'revision';

function lastRevision(repo: Repo): string | undefined {
  const text = readFileIfExists(path.join(repo.layout.stateDir, REVISION_FILE))?.trim();
  return text && /^[0-9a-f]{40}$/.test(text) ? text : undefined;
}

function samePointer(a: Pointer, b: Pointer): boolean {
  return sameContent(a, b) && a.size === b.size;
}

/** Whether the cache lacks an object the selection (its parts, for partial directories) needs. */
async function needsFetch(repo: Repo, selection: Selection[]): Promise<boolean> {
  const tops = selection.map((s) => s.tracked.pointer.oid);
  if (repo.store.missing(tops).size > 0) return true;
  const manifests = new ManifestSource(repo);
  for (const { tracked: { pointer: p }, sub } of selection) {
    if (p.kind !== 'dir') continue;
    const inScope = (e: ManifestEntry) => sub === undefined || e.p === sub || e.p.startsWith(`${sub}/`);
    const files = (manifests.entries(p.oid) ?? []).filter((e): e is FileEntry => isFileEntry(e) && inScope(e)).map((e) => e.o);
    if (repo.store.missing(files).size > 0) return true;
  }
  return false;
}

