import type { HasherFactory } from '../hash/blake3.js';
import type { Oid } from '../hash/oid.js';
import { parseRecipe, type Recipe } from '../formats/recipe.js';
import { localChunks } from '../store/chunk-map.js';
import type { ObjectStore } from '../store/object-store.js';
import { DONE, runStepsAsync, type AsyncStep } from '../util/steps.js';
import { locateOnRemote, packOrder, rebuildableFiles } from './fetch-plan.js';
import { describePack, rebuildFiles, type RebuildContext } from './fetch-rebuild.js';
import type { Remote } from './remote.js';
import type { RemoteIndex } from './remote-index.js';
import { addWant, packReader, readMembers, type Want } from './member-reads.js';
import type { TransferProgress } from './transfer-progress.js';
import { appendAll } from '../util/arrays.js';

export interface FetchOptions {
  jobs?: number;
  progress?: TransferProgress;
}

export interface FetchSummary {
  requested: number;
  alreadyLocal: number;
  fetched: number;
  bytesReceived: number;
  /** Bytes of large files taken from older versions already in the cache instead of the remote. */
  bytesReused: number;
  /** Objects no published pack of the remote holds. */
  missingOnRemote: Oid[];
}

/** One fetch, as its steps fill it in. */
interface Fetch extends RebuildContext {
  summary: FetchSummary;
  /** The objects asked for, each once. */
  wanted: Oid[];
  /** Those the cache lacks and a published pack of the remote holds. */
  located: Oid[];
  /** Recipes of the large files among them, as read from the remote. */
  recipes: Map<Oid, Recipe>;
  /** The large files whose every chunk the remote holds. */
  rebuildable: Map<Oid, Recipe>;
}

/**
 * Downloads objects into the cache. Blobs arrive by ranged GETs of their packs (neighbours coalesced);
 * large files are rebuilt from their chunks into a temp file at the right offsets, chunks shared with
 * a cached older version read from that file. Every blob and chunk is checked against its oid, and
 * every rebuilt file against the file's oid, before it enters the cache: tampered or truncated remote
 * data is refused and nothing of it is stored.
 */
export async function fetchObjects(store: ObjectStore, newHasher: HasherFactory, remote: Remote, index: RemoteIndex, oids: Oid[], opts: FetchOptions = {}): Promise<FetchSummary> {
  const wanted = [...new Set(oids)];
  const fetch: Fetch = {
    store, newHasher, remote, index,
    jobs: Math.max(1, opts.jobs ?? 8),
    progress: opts.progress,
    summary: { requested: wanted.length, alreadyLocal: 0, fetched: 0, bytesReceived: 0, bytesReused: 0, missingOnRemote: [] },
    wanted,
    located: [],
    recipes: new Map(),
    rebuildable: new Map(),
  };
  await runStepsAsync(fetch, FETCH_STEPS);
  return fetch.summary;
}

const FETCH_STEPS: AsyncStep<Fetch>[] = [findWhatToFetch, announceTotals, readBlobsAndRecipes, announceLargeFileBytes, setAsideUnbuildableFiles, rebuildLargeFiles];

function findWhatToFetch(fetch: Fetch) {
  const need = [...fetch.store.missing(fetch.wanted)];
  const { located, missing } = locateOnRemote(fetch.index, need);
  fetch.summary.alreadyLocal = fetch.wanted.length - need.length;
  appendAll(fetch.summary.missingOnRemote, missing);
  fetch.located = located;
  if (located.length === 0) {
    fetch.progress?.({ totalFiles: 0, totalBytes: 0 });
    return DONE;
  }
}

/** The bytes of large files are added once their recipes are read (the index knows only the recipe's size). */
function announceTotals({ progress, located, index }: Fetch): void {
  if (!progress) return;
  let bytes = 0;
  for (const oid of located) {
    const { entry } = index.locate(oid)!;
    if (entry.t === 'b') bytes += entry.raw;
  }
  progress({ totalFiles: located.length, totalBytes: bytes });
}

function announceLargeFileBytes({ progress, recipes }: Fetch): void {
  if (!progress || recipes.size === 0) return;
  let bytes = 0;
  for (const recipe of recipes.values()) for (const [, size] of recipe.chunks) bytes += size;
  progress({ totalBytes: bytes });
}

/**
 * Objects read per round of ranged reads. A round's wants are objects (an entry and a callback each);
 * the rest wait as positions in one typed array, so a million-object fetch holds one round's worth.
 */
const OBJECTS_PER_ROUND = 32_768;

/** Blobs go straight to the cache; the recipes of large files are collected. */
async function readBlobsAndRecipes(fetch: Fetch): Promise<void> {
  const { store, remote, index, summary, progress, recipes, located } = fetch;
  const order = packOrder(index, located);
  for (let start = 0; start < order.length; start += OBJECTS_PER_ROUND) {
    const wants: Map<string, Want[]> = new Map();
    for (const at of order.subarray(start, start + OBJECTS_PER_ROUND)) {
      const oid = located[at]!;
      const loc = index.locate(oid)!;
      const take = loc.entry.t === 'b'
        ? (bytes: Buffer) => {
            store.putVerified(oid, bytes, describePack(remote, loc.packHex));
            summary.fetched++;
            progress?.({ files: 1, bytes: bytes.length });
          }
        : (bytes: Buffer) => void recipes.set(oid, parseRecipe(bytes, `of ${oid} in ${describePack(remote, loc.packHex)}`));
      addWant(wants, loc.packHex, { entry: loc.entry, take });
    }
    await readMembers(packReader(remote, summary), wants, fetch.jobs);
  }
}

/** A large file whose recipe names a chunk the remote lacks counts as not on the remote. */
function setAsideUnbuildableFiles(fetch: Fetch): void {
  const { rebuildable, unbuildable } = rebuildableFiles(fetch.index, fetch.recipes);
  for (const { oid, chunk } of unbuildable) {
    fetch.summary.missingOnRemote.push(oid);
    fetch.index.warnings.push(`the recipe of ${oid} names chunk ${chunk}, which the remote does not have`);
  }
  fetch.rebuildable = rebuildable;
}

/**
 * Rebuilds each large file from its chunks. Chunks that a file already in the cache holds (an older
 * version) are read from there, not the remote.
 */
async function rebuildLargeFiles(fetch: Fetch): Promise<void> {
  const { rebuildable } = fetch;
  if (rebuildable.size === 0) return;
  const wantedChunks = new Set([...rebuildable.values()].flatMap((r) => r.chunks.map(([c]) => c)));
  const retry = await rebuildFiles(fetch, rebuildable, localChunks(fetch.store, wantedChunks));
  // A cached copy that was not what its recipe said (damaged since): those files again, all remote.
  if (retry.length > 0) await rebuildFiles(fetch, new Map(retry.map((o) => [o, rebuildable.get(o)!])), new Map());
}
