import type { TransferOptions } from '../repository/transfer.js';
import { checkout, type CheckoutResult } from '../workspace/checkout.js';
import { openRepo } from '../workspace/repo.js';
import { fetch, type FetchResult } from './fetch.js';

export interface PullOptions extends TransferOptions {
  cwd: string;
  paths?: string[];
  /** Overwrite work-tree content that is not in the cache. */
  force?: boolean;
}

export interface PullResult {
  fetch: FetchResult;
  checkout: CheckoutResult;
}

/** `mlx pull`: fetch, then checkout the same paths. */
export async function pull(opts: PullOptions): Promise<PullResult> {
  const fetched = await fetch(opts);
  const done = await checkout(await openRepo(opts.cwd), opts.cwd, opts.paths ?? [], { force: opts.force });
  return { fetch: fetched, checkout: done };
}
