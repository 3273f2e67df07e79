import path from 'node:path';
import { POINTER_SUFFIX } from '../formats/pointer.js';
import { add as addPaths, type AddOptions as AddEvents, type AddResult } from '../repository/add.js';
import { openRepo } from '../workspace/repo.js';

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
  const res = await addPaths(repo, opts.cwd, opts.paths, opts);
  const changed = [...res.paths.filter((p) => p.changed).map((p) => `${p.path}${POINTER_SUFFIX}`), ...(res.gitignoreChanged ? ['.gitignore'] : [])];
  return { ...res, toGitAdd: changed.map((p) => path.relative(opts.cwd, path.join(repo.root, p)) || '.') };
}
