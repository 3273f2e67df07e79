import { oidHex, type Oid } from '../hash/oid.js';
import type { PackEntry } from '../formats/pack-index.js';
import { recipeOffsets, type Recipe } from '../formats/recipe.js';
import type { LocalChunk } from '../store/chunk-map.js';
import type { RemoteIndex } from './remote-index.js';

/*
 * The decisions of a fetch that need no I/O: which objects the remote can give, which large files
 * it can rebuild, and where each chunk of a rebuilt file is read from. fetch.ts acts on them.
 */

/** Splits the objects the cache lacks into those a published pack holds and those none does. */
export function locateOnRemote(index: Pick<RemoteIndex, 'has'>, need: readonly Oid[]): { located: Oid[]; missing: Oid[] } {
  const located: Oid[] = [];
  const missing: Oid[] = [];
  for (const oid of need) (index.has(oid) ? located : missing).push(oid);
  return { located, missing };
}

/**
 * The positions of `located` (objects the index holds) grouped by pack, in offset order within each
 * pack: read in this order, any stretch of it covers few packs, and neighbours in a pack are coalesced.
 */
export function packOrder(index: Pick<RemoteIndex, 'placeOf'>, located: readonly Oid[]): Uint32Array {
  const n = located.length;
  const packs = new Uint32Array(n);
  const offsets = new Float64Array(n);
  let packCount = 0;
  for (let i = 0; i < n; i++) {
    const place = index.placeOf(located[i]!)!;
    packs[i] = place.pack;
    offsets[i] = place.offset;
    packCount = Math.max(packCount, place.pack + 1);
  }
  // A counting sort by pack, then each pack's stretch by offset.
  const starts = new Uint32Array(packCount + 1);
  for (let i = 0; i < n; i++) starts[packs[i]! + 1]!++;
  for (let p = 0; p < packCount; p++) starts[p + 1]! += starts[p]!;
  const order = new Uint32Array(n);
  const next = starts.slice(0, packCount);
  for (let i = 0; i < n; i++) order[next[packs[i]!]!++] = i;
  for (let p = 0; p < packCount; p++) order.subarray(starts[p]!, starts[p + 1]!).sort((a, b) => offsets[a]! - offsets[b]!);
  return order;
}

/**
 * Splits large files into those whose every chunk the remote holds and those it cannot rebuild (a
 * pack lost since): such a file counts as not on the remote, and a push from a machine that has it
 * repairs that.
 */
export function rebuildableFiles(index: Pick<RemoteIndex, 'missingChunk'>, recipes: ReadonlyMap<Oid, Recipe>): { rebuildable: Map<Oid, Recipe>; unbuildable: { oid: Oid; chunk: Oid }[] } {
  const rebuildable = new Map<Oid, Recipe>();
  const unbuildable: { oid: Oid; chunk: Oid }[] = [];
  for (const [oid, recipe] of recipes) {
    const lost = index.missingChunk(recipe);
    if (lost) unbuildable.push({ oid, chunk: lost });
    else rebuildable.set(oid, recipe);
  }
  return { rebuildable, unbuildable };
}

/** Source keys of wanted chunks that a cached file holds: this prefix and the file's oid hex. */
export const CACHED_SOURCE = 'cache:';

/** One chunk of a file being rebuilt: where it is read from and where it goes. */
export interface ChunkRead {
  chunk: Oid;
  size: number;
  /** Where the chunk goes in the rebuilt file. */
  fileOffset: number;
  /** A pack's hex, or {@link CACHED_SOURCE} and a cached file's oid hex. */
  source: string;
  /** Where the chunk lies in its source. */
  entry: PackEntry;
  /** The cached file it is read from, when it is not read from the remote. */
  cachedIn?: Oid;
}

/**
 * Where each chunk of `recipe` comes from: a cached file that holds it (an older version), else the
 * pack the remote index locates it in (every chunk of a rebuildable file has one).
 */
export function planChunkReads(recipe: Recipe, local: ReadonlyMap<Oid, LocalChunk>, index: Pick<RemoteIndex, 'locate'>): ChunkRead[] {
  const offsets = recipeOffsets(recipe);
  return recipe.chunks.map(([chunk, size], i) => {
    const fileOffset = offsets[i]!;
    const mine = local.get(chunk);
    if (mine) {
      const entry: PackEntry = { o: chunk, t: 'b', off: mine.offset, len: size, raw: size, c: 'none' };
      return { chunk, size, fileOffset, source: `${CACHED_SOURCE}${oidHex(mine.file)}`, entry, cachedIn: mine.file };
    }
    const loc = index.locate(chunk)!;
    return { chunk, size, fileOffset, source: loc.packHex, entry: loc.entry };
  });
}
