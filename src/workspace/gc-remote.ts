import path from 'node:path';
import { fetchObjects } from '../remote/fetch.js';
import { addRecipeChunks, collectRemote, type RemoteGcResult } from '../remote/remote-gc.js';
import { RemoteIndex } from '../remote/remote-index.js';
import { openGit } from '../git/history.js';
import { keptPointers, referencedObjects, type GcOptions } from './gc.js';
import { resolveRemote } from './remotes.js';
import type { Repo } from './repo.js';

export interface RemoteGcOptions extends GcOptions {
  remoteName?: string;
  /** How old a plan must be before its packs are removed (default one hour). */
  graceMs?: number;
}

/**
 * `mlx gc --remote`: the same retention rules applied to a remote, in two phases (mark now, sweep on a
 * later run once the plan is older than the grace period), so a concurrent push cannot lose data.
 */
export async function gcRemote(repo: Repo, opts: RemoteGcOptions = {}): Promise<RemoteGcResult & { remote: string; commits: number; keptObjects: number }> {
  const git = openGit(repo.root);
  const { commits, pointers, runObjects: extra } = await keptPointers(repo, git, opts);
  const { name, remote } = await resolveRemote(repo, opts.remoteName);
  const index = await RemoteIndex.load(remote, path.join(repo.store.root, 'remotes'));
  // Manifests name the files a directory keeps: bring the ones the cache lacks from the remote.
  const dirs = pointers.filter((p) => p.pointer.kind === 'dir').map((p) => p.pointer.oid);
  await fetchObjects(repo.store, repo.newHasher, remote, index, dirs.filter((o) => index.has(o)));
  const keep = referencedObjects(repo, pointers, !!opts.force);
  for (const o of extra) keep.add(o);
  await addRecipeChunks(remote, index, keep);
  const res = await collectRemote(remote, index, keep, { graceMs: opts.graceMs ?? 60 * 60_000, dryRun: opts.dryRun });
  return { ...res, remote: name, commits, keptObjects: keep.size };
}
