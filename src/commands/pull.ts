import type { TransferOptions } from '../repository/transfer.js';
import { checkout, type CheckoutResult } from '../workspace/checkout.js';
import { openRepo } from '../workspace/repo.js';
import { fetchInto, type FetchResult } from './fetch.js';
import { ensureMergeDriverRegistered } from './git-setup.js';

export interface PullOptions extends TransferOptions {
  cwd: string;
  paths?: string[];
  /** Overwrite work-tree content that is not in the cache. */
  force?: boolean;
  /** How this mlx is started, for registering the merge driver in a clone that lacks it. */
  command?: string[];
}

export interface PullResult {
  fetch: FetchResult;
  checkout: CheckoutResult;
  /** Whether this pull registered the mlx merge driver in the clone's git config. */
  mergeDriverRegistered: boolean;
}

/**
 * `mlx pull`: fetch, then checkout the same paths, in one open repository: what the fetch stored it
 * hashed itself, so the checkout knows those objects' sizes without a stat and, with `cache.verify`,
 * does not hash them a second time.
 */
export async function pull(opts: PullOptions): Promise<PullResult> {
  const repo = await openRepo(opts.cwd);
  const fetched = await fetchInto(repo, opts);
  const done = await checkout(repo, opts.cwd, opts.paths ?? [], { force: opts.force, progress: opts.progress });
  const mergeDriverRegistered = opts.command ? ensureMergeDriverRegistered(repo.root, opts.command) : false;
  return { fetch: fetched, checkout: done, mergeDriverRegistered };
}
