import * as z from 'zod/mini';
import { isOid, type Oid } from '../hash/oid.js';
import { MlxError, badRecipe } from '../util/errors.js';
import { parseJsonWith } from './zod-error.js';

export const RECIPE_VERSION = 1;

/** One chunk of a file: its oid and its size in bytes. */
export type RecipeChunk = [oid: Oid, size: number];

/**
 * How to rebuild a large file: the concatenation of `chunks`, in order, is the file. The recipe does not
 * name the file's oid — whoever holds the recipe knows it (a pack stores the recipe under the file's oid)
 * and must hash the reassembled bytes and compare, since only that proves the rebuild is right.
 */
export interface Recipe {
  v: 1;
  size: number;
  chunks: RecipeChunk[];
}

const size = z.int().check(z.nonnegative(), z.lte(Number.MAX_SAFE_INTEGER));
const RecipeSchema = z.strictObject({
  v: z.literal(RECIPE_VERSION),
  size,
  chunks: z.array(z.tuple([z.string().check(z.refine(isOid, 'expected an object id (b3:<64 hex>)')), z.int().check(z.positive(), z.lte(Number.MAX_SAFE_INTEGER))])),
});

/** Canonical bytes of a recipe: `{"v":1,"size":n,"chunks":[[oid,size],...]}`, no whitespace; size is the chunks' sum. */
export function serializeRecipe(chunks: readonly RecipeChunk[]): string {
  let total = 0;
  const parts = chunks.map(([o, s]) => {
    if (!isOid(o) || !Number.isSafeInteger(s) || s <= 0) throw malformedRecipe('being written', `invalid chunk ${JSON.stringify([o, s])}`);
    total += s;
    return `["${o}",${s}]`;
  });
  return `{"v":${RECIPE_VERSION},"size":${total},"chunks":[${parts.join(',')}]}`;
}

/**
 * Parses and checks a recipe: the shape, every chunk non-empty, and the chunk sizes adding up to `size`.
 * Chunk oids may repeat (a file can contain the same chunk twice).
 */
export function parseRecipe(text: string | Uint8Array, source: string): Recipe {
  const recipe = parseJsonWith(RecipeSchema, text, (why) => malformedRecipe(source, why)) as Recipe;
  let total = 0;
  for (const [, s] of recipe.chunks) total += s;
  if (total !== recipe.size) throw malformedRecipe(source, `chunk sizes add up to ${total}, not the file size ${recipe.size}`);
  return recipe;
}

/** Start offset of each chunk in the rebuilt file (for ranged reads of part of a file). */
export function recipeOffsets(recipe: Recipe): number[] {
  const offsets: number[] = [];
  let pos = 0;
  for (const [, s] of recipe.chunks) {
    offsets.push(pos);
    pos += s;
  }
  return offsets;
}

function malformedRecipe(source: string, why: string): MlxError {
  return badRecipe(`malformed file recipe ${source}: ${why}`, { recipe: source });
}
