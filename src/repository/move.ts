import fs from 'node:fs';
import path from 'node:path';
import { POINTER_SUFFIX } from '../formats/pointer.js';
import { badPath, pathNotFound } from '../util/errors.js';
import { lstatIfExists } from '../util/fs.js';
import { assertSafeRelPath } from '../util/paths.js';
import { ensureIgnored, renameIgnored } from '../workspace/gitignore.js';
import { PartialCheckouts } from '../workspace/partial-checkout.js';
import { findTrackedAncestor, pointerFileOf, readPointer, writePointer } from '../workspace/pointers.js';
import { absPath, toRepoPath, type Repo } from '../workspace/repo.js';
import { lockRepository } from '../workspace/repository-lock.js';
import { StatIndex } from '../workspace/stat-index.js';
import { resolveTargets } from '../workspace/targets.js';

export interface MoveResult {
  from: string;
  to: string;
  /** Whether there was data in the work tree to move (a tracked path may not be checked out). */
  dataMoved: boolean;
  gitignoreChanged: boolean;
}

/**
 * `mlx move`: moves a tracked file or directory and its pointer, and its `.gitignore` entry. A
 * destination that is an existing untracked folder receives the path inside it (as `mv` and
 * `git mv` do). Nothing is ever overwritten; every check is made before the first change.
 */
export async function move(repo: Repo, cwd: string, src: string, dst: string, opts: { onLockWait?: (owner: { pid: number }) => void } = {}): Promise<MoveResult> {
  const [target] = resolveTargets(repo, cwd, [src]);
  if (!target!.exists) throw pathNotFound(`${target!.tracked} is not tracked by mlx (no ${target!.tracked}${POINTER_SUFFIX})`, { hint: 'mlx status lists tracked paths', path: target!.tracked });
  if (target!.sub !== undefined) {
    throw badPath(`${target!.tracked}/${target!.sub} lies inside the tracked directory ${target!.tracked}: mlx move moves whole tracked paths`, { hint: `move the file and run mlx add ${target!.tracked}`, path: `${target!.tracked}/${target!.sub}` });
  }
  const from = target!.tracked;
  const to = destination(repo, cwd, from, dst);
  const tracked = readPointer(repo, from)!;
  const release = await lockRepository(repo, { onWait: opts.onLockWait });
  try {
    // In an order that never leaves data outside .gitignore, nor its pointer gone before the new one
    // is written: a run stopped half-way leaves both pointers at worst, and the cache keeps the objects.
    ensureIgnored(repo.root, [to]);
    const fromAbs = absPath(repo, from);
    const dataMoved = lstatIfExists(fromAbs) !== undefined;
    fs.mkdirSync(path.dirname(absPath(repo, to)), { recursive: true });
    if (dataMoved) fs.renameSync(fromAbs, absPath(repo, to));
    writePointer(repo, { ...tracked.pointer, path: to });
    fs.rmSync(pointerFileOf(repo, from), { force: true });
    const gitignoreChanged = renameIgnored(repo.root, from, to);
    moveLocalState(repo, from, to);
    return { from, to, dataMoved, gitignoreChanged };
  } finally {
    release();
  }
}

/** The repository path `from` moves to, after every check that the move may write there. */
function destination(repo: Repo, cwd: string, from: string, dst: string): string {
  let to = toRepoPath(repo, cwd, dst);
  const st = lstatIfExists(absPath(repo, to));
  // An existing folder receives the path, as with mv (tracked data refuses it below).
  if (st?.isDirectory()) to = `${to}/${from.slice(from.lastIndexOf('/') + 1)}`;
  assertSafeRelPath(to, 'destination', 'tracked');
  if (to === from) throw badPath(`${from} is already at ${dst}`, { path: to });
  if (to.startsWith(`${from}/`)) throw badPath(`cannot move ${from} into itself (${to})`, { path: to });
  const inside = findTrackedAncestor(repo, to);
  if (inside) throw badPath(`cannot move ${from} to ${to}: ${inside === to ? 'it is tracked already' : `it lies inside the tracked path ${inside}`}`, { path: to });
  if (lstatIfExists(absPath(repo, to))) throw badPath(`cannot move ${from} to ${to}: it exists; mlx move never overwrites`, { path: to });
  if (lstatIfExists(pointerFileOf(repo, to))) throw badPath(`cannot move ${from} to ${to}: ${to}${POINTER_SUFFIX} exists; mlx move never overwrites`, { path: to });
  assertRealFolders(repo, to);
  return to;
}

/** Every folder above `rel` that exists is a real folder: a move never writes through a symlink. */
function assertRealFolders(repo: Repo, rel: string): void {
  const segs = rel.split('/');
  for (let i = 1; i < segs.length; i++) {
    const dir = segs.slice(0, i).join('/');
    const st = lstatIfExists(absPath(repo, dir));
    if (!st) return;
    if (!st.isDirectory()) throw badPath(`cannot move to ${rel}: ${dir} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}, and mlx never writes through one`, { path: rel });
  }
}

/** A partial checkout stays partial at the new path; the stat index learns the moved files anew. */
function moveLocalState(repo: Repo, from: string, to: string): void {
  const partial = PartialCheckouts.load(repo.layout);
  const selection = partial.selectionOf(from);
  if (selection) {
    partial.forget(from);
    partial.widen(to, selection);
    partial.save();
  }
  const index = StatIndex.load(repo.layout.statIndexFile);
  index.prune(from, () => false);
  index.save();
}
