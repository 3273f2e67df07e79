import { dropIncompleteRecipes } from '../remote/recipe-check.js';
import { resolveRemote } from '../repository/remotes.js';
import { neededOids, openRemoteIndex } from '../repository/transfer.js';
import { openRepo } from '../workspace/repo.js';
import { selectTracked } from '../workspace/targets.js';

export interface RemoteStatusOptions {
  cwd: string;
  paths?: string[];
  /** The remote to compare with (default: core.remote). */
  remote?: string;
}

export interface RemoteStatus {
  remote: string;
  warnings: string[];
  paths: { path: string; objects: number; notOnRemote: number; notInCache: number }[];
}

/** `mlx status --remote`: per tracked path, how many of its objects the remote lacks. */
export async function remoteStatus(opts: RemoteStatusOptions): Promise<RemoteStatus> {
  const repo = await openRepo(opts.cwd);
  const selection = selectTracked(repo, opts.cwd, opts.paths ?? []);
  const { name, remote } = await resolveRemote(repo, opts.remote);
  const index = await openRemoteIndex(repo, remote);
  const out: RemoteStatus = { remote: name, paths: [], warnings: index.warnings };
  const needed = selection.map((s) => ({
    s,
    oids: repo.store.has(s.tracked.pointer.oid) || s.tracked.pointer.kind === 'file' ? neededOids(repo, [s]) : [s.tracked.pointer.oid],
  }));
  await dropIncompleteRecipes(remote, index, needed.flatMap((n) => n.oids));
  for (const { s, oids } of needed) {
    const local = repo.store.missing(oids);
    out.paths.push({ path: s.tracked.path, objects: oids.length, notOnRemote: oids.filter((o) => !index.has(o)).length, notInCache: local.size });
  }
  return out;
}
