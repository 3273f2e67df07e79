import path from 'node:path';
import { POINTER_SUFFIX } from '../formats/pointer.js';
import { add as addPaths, type AddOptions as AddEvents, type AddResult } from '../repository/add.js';
import { partialCheckout } from '../util/errors.js';
import { PartialCheckouts } from '../workspace/partial-checkout.js';
import { openRepo, type Repo } from '../workspace/repo.js';
import { lockRepository } from '../workspace/repository-lock.js';
import { inspectWorkTree } from '../workspace/status.js';
import { resolveTargets, type Target } from '../workspace/targets.js';

export type { AddResult } from '../repository/add.js';
export { DAMAGE_HINT, describeDamage } from '../workspace/linked-damage.js';

export interface AddOptions extends AddEvents {
  cwd: string;
  /** Files or directories to track, relative to `cwd`. */
  paths: string[];
}

export interface AddCommandResult extends AddResult {
  /** What to `git add` to track the changes: the changed pointers and .gitignore, relative to `cwd`. */
  toGitAdd: string[];
}

/** `mlx add`: stores files and directories in the cache and writes their pointers. */
export async function add(opts: AddOptions): Promise<AddCommandResult> {
  const repo = await openRepo(opts.cwd);
  const targets = opts.paths.length > 0 ? resolveTargets(repo, opts.cwd, opts.paths) : [];
  await refusePartialWhole(repo, opts.cwd, targets);
  const res = await addPaths(repo, opts.cwd, opts.paths, opts);
  await updatePartial(repo, targets, opts.onLockWait);
  const changed = [...res.paths.filter((p) => p.changed).map((p) => `${p.path}${POINTER_SUFFIX}`), ...(res.gitignoreChanged ? ['.gitignore'] : [])];
  return { ...res, toGitAdd: changed.map((p) => path.relative(opts.cwd, path.join(repo.root, p)) || '.') };
}

/**
 * Adding a partly checked-out directory whole would record every file never checked out as deleted
 * (DVC does exactly that). Refused: parts are added by their paths, which keeps the rest as recorded
 * (as `git add` in a sparse checkout does), or the directory is completed first.
 */
async function refusePartialWhole(repo: Repo, cwd: string, targets: Target[]): Promise<void> {
  const partial = PartialCheckouts.load(repo.layout);
  const whole = targets.filter((t) => t.exists && t.sub === undefined && partial.selectionOf(t.tracked) !== undefined);
  if (whole.length === 0) return;
  const { result } = await inspectWorkTree(repo, repo.root, whole.map((t) => t.tracked));
  const p = result.paths.find((s) => s.partial);
  if (!p?.partial) return;
  const rel = path.relative(cwd, path.join(repo.root, p.path)) || '.';
  throw partialCheckout(`${p.path} is a partial checkout (${p.partial.present} of ${p.partial.total} files present): adding it whole would record the ${p.partial.total - p.partial.present} files never checked out as deleted`, {
    hint: `add the files you changed by their paths (mlx add ${rel}/<file>), which keeps the rest as recorded, or complete it first with mlx pull ${rel}`,
    path: p.path,
    present: p.partial.present,
    total: p.partial.total,
  });
}

/**
 * Parts added inside a partial checkout are in the work tree now: they join its selection. A path
 * added whole is whole (a stale record, e.g. of a path tracked anew, goes).
 */
async function updatePartial(repo: Repo, targets: Target[], onLockWait?: AddOptions['onLockWait']): Promise<void> {
  if (targets.length === 0 || PartialCheckouts.load(repo.layout).trackedPaths.length === 0) return;
  const release = await lockRepository(repo, { onWait: onLockWait });
  try {
    const partial = PartialCheckouts.load(repo.layout);
    const recorded = targets.filter((t) => partial.selectionOf(t.tracked) !== undefined);
    for (const t of recorded) {
      if (t.sub === undefined) partial.forget(t.tracked);
      else partial.widen(t.tracked, [t.sub]);
    }
    if (recorded.length > 0) partial.save();
  } finally {
    release();
  }
}
