import { type Oid, oidFromHex } from '../hash/oid.js';
import { parseRecipe, type Recipe } from '../formats/recipe.js';
import { E, MlxError } from '../util/errors.js';
import { packKey } from './layout.js';
import { extractMember } from './pack.js';
import type { Remote } from './remote.js';
import { OidList } from './oid-list.js';
import type { Located, RemoteIndex } from './remote-index.js';
import { runPool } from './transfer-progress.js';

/** The recipe of large file `oid`, read from where the index locates it (one small ranged read). */
export async function readRemoteRecipe(remote: Remote, oid: Oid, { packHex, entry }: Located): Promise<Recipe> {
  const bytes = await remote.get(packKey(oidFromHex(packHex)), { start: entry.off, end: entry.off + entry.len });
  return parseRecipe(extractMember(bytes, entry, entry.off), `of ${oid} in pack ${packHex.slice(0, 12)}`);
}

/**
 * Drops from `index` the large files among `oids` that the remote claims but cannot rebuild, and
 * returns them. Push publishes a recipe only after every chunk it names, but a pack lost or removed by
 * hand can still leave a recipe whose chunks are gone; the index alone cannot tell. This reads just the
 * recipes (one small ranged read each) and checks their chunks against the index. Once dropped, such a
 * file counts as absent everywhere: push sends it again, status and verify report it.
 * With `chunkPacks`, the packs holding the chunks of every complete recipe are added to it.
 */
export async function dropIncompleteRecipes(remote: Remote, index: RemoteIndex, oids: Iterable<Oid> | OidList, jobs = 8, chunkPacks?: Set<string>): Promise<Oid[]> {
  // Recipes are few among a million objects: only they are collected (and their repeats dropped);
  // in a list they are found by digest, with no oid string made for the rest.
  const recipes = new Set<Oid>();
  if (oids instanceof OidList) {
    for (let i = 0; i < oids.length; i++) if (index.typeOfListed(oids, i) === 'r') recipes.add(oids.oidAt(i));
  } else {
    for (const oid of oids) if (index.typeOf(oid) === 'r') recipes.add(oid);
  }
  const dropped: Oid[] = [];
  await runPool([...recipes], jobs, async (oid) => {
    let why: string | undefined;
    try {
      const recipe = await readRemoteRecipe(remote, oid, index.locate(oid)!);
      const lost = index.missingChunk(recipe);
      if (lost) why = `it names chunk ${lost}, which the remote does not have`;
      else if (chunkPacks) for (const [chunk] of recipe.chunks) chunkPacks.add(index.locate(chunk)!.packHex);
    } catch (err) {
      if (!(err instanceof MlxError) || (err.code !== E.OBJECT_CORRUPT && err.code !== E.BAD_RECIPE)) throw err;
      why = err.message;
    }
    if (why === undefined) return;
    index.drop(oid);
    index.warnings.push(`ignored the recipe of ${oid}: ${why}`);
    dropped.push(oid);
  });
  return dropped;
}
