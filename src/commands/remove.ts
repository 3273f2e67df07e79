import path from 'node:path';
import { POINTER_SUFFIX } from '../formats/pointer.js';
import { untrack, type RemoveOptions as UntrackOptions, type RemoveResult } from '../repository/untrack.js';
import { openRepo } from '../workspace/repo.js';

export interface RemoveOptions extends UntrackOptions {
  cwd: string;
  /** Tracked paths (or their pointer files), relative to `cwd`. */
  paths: string[];
}

export interface RemoveCommandResult extends RemoveResult {
  /** What to `git add` to record the change: the removed pointers and .gitignore, relative to `cwd`. */
  toGitAdd: string[];
}

/** `mlx remove`: stops tracking paths, keeping their data in the work tree unless `outs`. */
export async function remove(opts: RemoveOptions): Promise<RemoveCommandResult> {
  const repo = await openRepo(opts.cwd);
  const res = await untrack(repo, opts.cwd, opts.paths, opts);
  const changed = [...res.paths.map((p) => `${p.path}${POINTER_SUFFIX}`), ...(res.gitignoreChanged ? ['.gitignore'] : [])];
  return { ...res, toGitAdd: changed.map((p) => path.relative(opts.cwd, path.join(repo.root, p)) || '.') };
}
