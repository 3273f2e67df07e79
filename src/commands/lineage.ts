import { lineage as traceLineage, type Lineage } from '../run/lineage.js';
import { openRepo, toRepoPath } from '../workspace/repo.js';

export type { Lineage } from '../run/lineage.js';

export interface LineageOptions {
  cwd: string;
  /** A tracked path (or a path inside one), relative to `cwd`. */
  path: string;
  /** At this revision (default: the work tree). */
  rev?: string;
}

/** `mlx lineage <path>`: the runs and inputs behind an artifact, across commits. */
export async function lineage(opts: LineageOptions): Promise<Lineage> {
  const repo = await openRepo(opts.cwd);
  return traceLineage(repo, [toRepoPath(repo, opts.cwd, opts.path)], { rev: opts.rev });
}
