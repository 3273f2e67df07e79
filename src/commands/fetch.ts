import { fetchSelection, type FetchResult, type TransferOptions } from '../repository/transfer.js';
import { runObjectRounds } from '../run/run-objects.js';
import { openRepo, type Repo } from '../workspace/repo.js';
import { selectTracked } from '../workspace/targets.js';

export type { FetchResult } from '../repository/transfer.js';

export interface FetchOptions extends TransferOptions {
  cwd: string;
  /** Paths to fetch (inside tracked directories too); none means the whole repository. */
  paths?: string[];
}

/**
 * `mlx fetch`: brings the objects the selected pointers need into the cache; a path inside a tracked
 * directory fetches only its own objects. Whole-repository fetches also bring what the work tree's
 * recorded runs need, as far as the remote has it.
 */
export async function fetch(opts: FetchOptions): Promise<FetchResult> {
  return fetchInto(await openRepo(opts.cwd), opts);
}

/** `fetch` into an open repository (`pull` checks out from the same one). */
export async function fetchInto(repo: Repo, opts: FetchOptions): Promise<FetchResult> {
  const paths = opts.paths ?? [];
  return fetchSelection(repo, selectTracked(repo, opts.cwd, paths), opts, paths.length === 0 ? runObjectRounds(repo) : []);
}
