import fs from 'node:fs';
import path from 'node:path';
import { oidFromHex, oidHex, type Oid } from '../hash/oid.js';
import { parseRecipe, serializeRecipe, type Recipe, type RecipeChunk } from '../formats/recipe.js';
import { MlxError, isErrno } from '../util/errors.js';
import { writeFileAtomicSync } from '../util/fs.js';
import type { ObjectStore } from './object-store.js';

/*
 * Where the chunks of large files already in the cache are: the recipes of files this cache received
 * from a remote or sent to one, kept in `<cache>/recipes/<oid hex>`. A pull of a new version of a
 * checkpoint then takes the chunks it shares with an older version from that file instead of the
 * network. Recipes are hints, not truth: what they lead to is checked by the rebuilt file's hash, and
 * a recipe whose file left the cache names nothing.
 */

const dirOf = (store: ObjectStore) => path.join(store.root, 'recipes');

/** Remembers how large file `oid` (which the cache holds) is cut into chunks. */
export function saveRecipe(store: ObjectStore, oid: Oid, chunks: readonly RecipeChunk[]): void {
  const dir = dirOf(store);
  fs.mkdirSync(dir, { recursive: true });
  // A lost recipe only costs a download later: no fsync.
  writeFileAtomicSync(path.join(dir, oidHex(oid)), serializeRecipe(chunks), { durable: false });
}

/** A chunk found in a cached file: which file, and where in it. */
export interface LocalChunk {
  file: Oid;
  offset: number;
}

/** Of `chunks`, those some cached large file holds, with where. Damaged recipe files are skipped. */
export function localChunks(store: ObjectStore, chunks: ReadonlySet<Oid>): Map<Oid, LocalChunk> {
  const found = new Map<Oid, LocalChunk>();
  for (const name of listRecipes(store)) {
    const file = oidFromHex(name);
    if (!store.has(file)) continue;
    let recipe: Recipe;
    try {
      recipe = parseRecipe(fs.readFileSync(path.join(dirOf(store), name)), `${name} in the cache`);
    } catch (err) {
      if (err instanceof MlxError || isErrno(err, 'ENOENT')) continue;
      throw err;
    }
    let offset = 0;
    for (const [chunk, size] of recipe.chunks) {
      if (chunks.has(chunk) && !found.has(chunk)) found.set(chunk, { file, offset });
      offset += size;
    }
  }
  return found;
}

/** Removes the recipes of files no longer in the cache; returns how many. */
export function pruneRecipes(store: ObjectStore): number {
  let removed = 0;
  for (const name of listRecipes(store)) {
    if (store.has(oidFromHex(name))) continue;
    fs.rmSync(path.join(dirOf(store), name), { force: true });
    removed++;
  }
  return removed;
}

function listRecipes(store: ObjectStore): string[] {
  try {
    return fs.readdirSync(dirOf(store)).filter((n) => /^[0-9a-f]{64}$/.test(n));
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
}
