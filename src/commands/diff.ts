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

/** `mlx diff [a [b]]`: tracked data added, deleted, renamed and modified between two revisions. */
export async function diff(opts: DiffOptions): Promise<DiffResult> {
  return diffRevisions(await openRepo(opts.cwd), opts.from, opts.to);
}
