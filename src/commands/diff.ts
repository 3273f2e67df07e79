import { diff as diffRevisions, type DiffResult } from '../repository/diff.js';
import { openRepo } from '../workspace/repo.js';

export type { DiffResult, FileChange, PathChange } from '../repository/diff.js';

export interface DiffOptions {
  cwd: string;
  /** From (default HEAD). */
  from?: string;
  /** To (default: the work tree). */
  to?: string;
}

/** `mlx diff [a [b]]`: tracked data added, deleted, renamed and modified between two revisions (and, by default, in the work tree). */
export async function diff(opts: DiffOptions): Promise<DiffResult> {
  // Compared with the work tree by default, as `git diff` does, that includes changes not yet added.
  return diffRevisions(await openRepo(opts.cwd), opts.from, opts.to, { withWorkTree: opts.to === undefined });
}
