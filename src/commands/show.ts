import { findRun, type CatalogEntry } from '../run/catalog.js';
import { openRepo } from '../workspace/repo.js';

/** `mlx show <run>`: one run found by id, id prefix, record oid or name. */
export async function show(opts: { cwd: string; run: string }): Promise<CatalogEntry> {
  return findRun(await openRepo(opts.cwd), opts.run);
}
