import { openRepo } from '../workspace/repo.js';
import { status as workTreeStatus, type StatusResult } from '../workspace/status.js';
import type { Progress } from '../workspace/work-tree.js';

export type { PathStatus, StatusResult } from '../workspace/status.js';

export interface StatusOptions {
  cwd: string;
  /** Limit to these tracked paths. */
  paths?: string[];
  progress?: Progress;
}

/** `mlx status`: each tracked path compared with its pointer, and whether the cache holds its data. */
export async function status(opts: StatusOptions): Promise<StatusResult> {
  return workTreeStatus(await openRepo(opts.cwd), opts.cwd, opts.paths ?? [], opts.progress);
}
