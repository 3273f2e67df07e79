import { catalog, findRunIn, sameInputs, type CatalogEntry } from '../run/catalog.js';
import { keyOf } from '../formats/run-lock.js';
import { openRepo } from '../workspace/repo.js';

export interface ShowResult {
  entry: CatalogEntry;
  /** The run's input key (derived from the id for runs recorded before keys). */
  key: string;
  /** The other executions with the same input key, newest first. */
  sameInputs: CatalogEntry[];
}

/** `mlx show <run>`: one run found by id, id prefix, record oid or name, and its earlier executions. */
export async function show(opts: { cwd: string; run: string }): Promise<ShowResult> {
  const { entries } = await catalog(await openRepo(opts.cwd));
  const entry = findRunIn(entries, opts.run);
  return { entry, key: keyOf(entry.run), sameInputs: sameInputs(entries, entry) };
}
