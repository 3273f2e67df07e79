import { catalog, type Catalog } from '../run/catalog.js';
import { openRepo } from '../workspace/repo.js';

export type { Catalog, CatalogEntry } from '../run/catalog.js';

/** `mlx runs`: the experiment catalog, from mlx.lock and the history of every branch, remote-tracking branch and tag. */
export async function runs(opts: { cwd: string }): Promise<Catalog> {
  return catalog(await openRepo(opts.cwd));
}
