import { gc, gcRemote, type GcOptions } from '../../workspace/gc.js';
import { openRepo } from '../../workspace/repo.js';
import { E, MlxError } from '../../util/errors.js';
import { formatBytes, type Output } from '../output.js';

export interface GcFlags {
  branch?: string[];
  allBranches?: boolean;
  tag?: string[];
  allTags?: boolean;
  rev?: string[];
  last?: string;
  days?: string;
  dryRun?: boolean;
  keepRecent?: string;
  force?: boolean;
  remote?: boolean;
  remoteName?: string;
  grace?: string;
}

function count(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new MlxError(E.USAGE, `${flag} expects a number of at least 0, got ${v}`);
  return n;
}

export async function run(out: Output, flags: GcFlags): Promise<void> {
  const repo = await openRepo(out.cwd);
  const opts: GcOptions = {
    branches: flags.branch,
    allBranches: flags.allBranches,
    tags: flags.tag,
    allTags: flags.allTags,
    revs: flags.rev,
    lastCommits: count('--last', flags.last),
    days: count('--days', flags.days),
    dryRun: flags.dryRun,
    keepRecentMs: count('--keep-recent', flags.keepRecent) === undefined ? undefined : count('--keep-recent', flags.keepRecent)! * 60_000,
    graceMs: count('--grace', flags.grace) === undefined ? undefined : count('--grace', flags.grace)! * 60_000,
    force: flags.force,
    remoteName: flags.remoteName,
  };
  if (flags.remote || flags.remoteName) {
    const res = await gcRemote(repo, opts);
    out.result(res, () => [
      `${res.dryRun ? 'would remove' : 'removed'} ${res.removedPacks} pack(s) (${formatBytes(res.removedBytes)}) from ${res.remote}; spared ${res.spared}${res.removedTemporaries ? `; removed ${res.removedTemporaries} temp file(s) of interrupted pushes` : ''}`,
      `${res.dryRun ? 'would mark' : 'marked'} ${res.marked} unreferenced pack(s) for removal by a later mlx gc --remote; ${res.pending} plan(s) still in their grace period`,
      `kept everything ${res.keptObjects} object(s) from ${res.commits} commit(s) and the work tree need`,
    ]);
    return;
  }
  const res = await gc(repo, opts);
  out.result(res, () => [
    `${res.dryRun ? 'would remove' : 'removed'} ${res.removedObjects} object(s), ${formatBytes(res.removedBytes)}; kept ${res.keptObjects} (the work tree and ${res.commits} commit(s)${res.repositories ? `, and what ${res.repositories} other repositor${res.repositories === 1 ? 'y' : 'ies'} sharing the cache need` : ''})`,
  ]);
}
