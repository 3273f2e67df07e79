import path from 'node:path';
import { POINTER_SUFFIX } from '../formats/pointer.js';
import { move as movePath, type MoveResult } from '../repository/move.js';
import { openRepo } from '../workspace/repo.js';

export interface MoveCommandResult extends MoveResult {
  /** What to `git add` to record the move: both pointers and .gitignore, relative to `cwd`. */
  toGitAdd: string[];
}

/** `mlx move`: moves a tracked path, its pointer and its .gitignore entry. */
export async function move(opts: { cwd: string; src: string; dst: string; onLockWait?: (owner: { pid: number }) => void }): Promise<MoveCommandResult> {
  const repo = await openRepo(opts.cwd);
  const res = await movePath(repo, opts.cwd, opts.src, opts.dst, opts);
  const changed = [`${res.from}${POINTER_SUFFIX}`, `${res.to}${POINTER_SUFFIX}`, ...(res.gitignoreChanged ? ['.gitignore'] : [])];
  return { ...res, toGitAdd: changed.map((p) => path.relative(opts.cwd, path.join(repo.root, p)) || '.') };
}
