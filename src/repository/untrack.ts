import fs from 'node:fs';
import { POINTER_SUFFIX } from '../formats/pointer.js';
import { badPath, badUsage, pathNotFound } from '../util/errors.js';
import { detachFromCache } from '../workspace/detach.js';
import { dropIgnored } from '../workspace/gitignore.js';
import { PartialCheckouts } from '../workspace/partial-checkout.js';
import { pointerFileOf } from '../workspace/pointers.js';
import { absPath, type Repo } from '../workspace/repo.js';
import { lockRepository } from '../workspace/repository-lock.js';
import { StatIndex } from '../workspace/stat-index.js';
import { resolveTargets } from '../workspace/targets.js';

export interface RemoveOptions {
  /** Also delete the data from the work tree (DVC's `remove --outs`). */
  outs?: boolean;
  onLockWait?: (owner: { pid: number }) => void;
}

export interface RemovedPath {
  path: string;
  /** Whether the data was deleted from the work tree (`--outs`) or kept there. */
  data: 'deleted' | 'kept' | 'absent';
}

export interface RemoveResult {
  paths: RemovedPath[];
  /** Whether the root .gitignore lost entries. */
  gitignoreChanged: boolean;
}

/**
 * `mlx remove`: stops tracking paths. Their pointer files and the `.gitignore` entries mlx wrote go;
 * the data stays in the work tree as plain files (links into the cache are replaced by copies)
 * unless `outs` asks to delete it. The cache keeps the objects: gc decides about them later.
 * Every path is checked before anything changes, so a bad argument changes nothing.
 */
export async function untrack(repo: Repo, cwd: string, userPaths: string[], opts: RemoveOptions = {}): Promise<RemoveResult> {
  if (userPaths.length === 0) throw badUsage('name at least one tracked path to remove');
  const targets = resolveTargets(repo, cwd, userPaths);
  for (const t of targets) {
    if (!t.exists) throw pathNotFound(`${t.tracked} is not tracked by mlx (no ${t.tracked}${POINTER_SUFFIX})`, { hint: 'mlx status lists tracked paths', path: t.tracked });
    if (t.sub !== undefined) {
      throw badPath(`${t.tracked}/${t.sub} lies inside the tracked directory ${t.tracked}: mlx remove stops tracking whole paths`, {
        hint: `delete the file and run mlx add ${t.tracked}, or mlx remove ${t.tracked}`,
        path: `${t.tracked}/${t.sub}`,
      });
    }
  }
  const rels = targets.map((t) => t.tracked);
  const release = await lockRepository(repo, { onWait: opts.onLockWait });
  try {
    const paths: RemovedPath[] = [];
    for (const rel of rels) {
      const abs = absPath(repo, rel);
      const present = fs.lstatSync(abs, { throwIfNoEntry: false }) !== undefined;
      // The data first: a run stopped half-way leaves a pointer to re-run remove with, never data
      // that is a link into a cache nothing keeps.
      if (present && opts.outs) fs.rmSync(abs, { recursive: true, force: true });
      else if (present) detachFromCache(repo, abs);
      fs.rmSync(pointerFileOf(repo, rel), { force: true });
      paths.push({ path: rel, data: !present ? 'absent' : opts.outs ? 'deleted' : 'kept' });
    }
    const gitignoreChanged = dropIgnored(repo.root, rels);
    forgetLocalState(repo, rels);
    return { paths, gitignoreChanged };
  } finally {
    release();
  }
}

/** What the clone remembers of the paths (partial checkouts, stat index entries) goes with them. */
export function forgetLocalState(repo: Repo, rels: string[]): void {
  const partial = PartialCheckouts.load(repo.layout);
  const recorded = rels.filter((rel) => partial.selectionOf(rel) !== undefined);
  for (const rel of recorded) partial.forget(rel);
  if (recorded.length > 0) partial.save();
  const index = StatIndex.load(repo.layout.statIndexFile);
  for (const rel of rels) index.prune(rel, () => false);
  index.save();
}
