import { gc } from '../../commands/gc.js';
import { gcRemote, type RemoteGcOptions } from '../../commands/gc-remote.js';
import { badUsage } from '../../util/errors.js';
import { parseCount } from '../flags.js';
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
  gitRemote?: string;
  localRefs?: boolean;
}


export async function runGc(out: Output, flags: GcFlags): Promise<void> {
  const opts: RemoteGcOptions = {
    cwd: out.cwd,
    branches: flags.branch,
    allBranches: flags.allBranches,
    tags: flags.tag,
    allTags: flags.allTags,
    revs: flags.rev,
    lastCommits: parseCount('--last', flags.last),
    days: parseCount('--days', flags.days),
    dryRun: flags.dryRun,
    keepRecentMs: parseCount('--keep-recent', flags.keepRecent) === undefined ? undefined : parseCount('--keep-recent', flags.keepRecent)! * 60_000,
    graceMs: parseCount('--grace', flags.grace) === undefined ? undefined : parseCount('--grace', flags.grace)! * 60_000,
    force: flags.force,
    remoteName: flags.remoteName,
    gitRemote: flags.gitRemote,
    localRefs: flags.localRefs,
  };
  if ((flags.gitRemote !== undefined || flags.localRefs) && !(flags.remote || flags.remoteName)) {
    throw badUsage(`${flags.localRefs ? '--local-refs' : '--git-remote'} only applies to gc --remote`);
  }
  if (flags.gitRemote !== undefined && flags.localRefs) throw badUsage('--git-remote and --local-refs exclude each other');
  if (flags.remote || flags.remoteName) {
    const res = await gcRemote(opts);
    out.result(res, () => [
      `${res.dryRun ? 'would remove' : 'removed'} ${res.removedPacks} pack(s) (${formatBytes(res.removedBytes)}) from ${res.remote}; spared ${res.spared}${res.removedTemporaries ? `; removed ${res.removedTemporaries} temp file(s) of interrupted pushes` : ''}`,
      `${res.dryRun ? 'would mark' : 'marked'} ${res.marked} unreferenced pack(s) for removal by a later mlx gc --remote; ${res.pending} plan(s) still in their grace period`,
      `kept everything ${res.keptObjects} object(s) from ${res.commits} commit(s) and the work tree need${
        res.gitRemote === null ? ' (local refs only)' : `, including the ${res.gitRemoteBranches} branch(es) and ${res.gitRemoteTags} tag(s) of git remote ${res.gitRemote}`
      }`,
    ]);
    return;
  }
  const res = await gc(opts);
  out.result(res, () => [
    `${res.dryRun ? 'would remove' : 'removed'} ${res.removedObjects} object(s), ${formatBytes(res.removedBytes)}; kept ${res.keptObjects} (the work tree and ${res.commits} commit(s)${res.repositories ? `, and what ${res.repositories} other repositor${res.repositories === 1 ? 'y' : 'ies'} sharing the cache need` : ''})`,
  ]);
}
