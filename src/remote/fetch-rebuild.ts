import fs from 'node:fs';
import type { HasherFactory } from '../hash/blake3.js';
import { oidFromHex, type Oid } from '../hash/oid.js';
import type { Recipe } from '../formats/recipe.js';
import { saveRecipe, type LocalChunk } from '../store/chunk-map.js';
import type { ObjectStore } from '../store/object-store.js';
import { E, MlxError, objectCorrupt } from '../util/errors.js';
import { FileRebuild, ReorderGate } from './file-rebuild.js';
import { canCopyFromLocalPacks, copyFromLocalPacks } from './local-pack-copy.js';
import { CACHED_SOURCE, planChunkReads, type ChunkRead } from './fetch-plan.js';
import { addWant, packReader, readMembers, type RangeReader, type Want } from './member-reads.js';
import type { Remote } from './remote.js';
import type { RemoteIndex } from './remote-index.js';
import type { TransferProgress } from './transfer-progress.js';

/** What rebuilding large files uses of a fetch. */
export interface RebuildContext {
  store: ObjectStore;
  newHasher: HasherFactory;
  remote: Remote;
  index: RemoteIndex;
  jobs: number;
  progress: TransferProgress | undefined;
  summary: { fetched: number; bytesReceived: number; bytesReused: number };
}

/** How a pack of the remote is named in messages. */
export function describePack(remote: Remote, hex: string): string {
  return `${remote.url} (pack ${hex.slice(0, 12)})`;
}

/** A file being rebuilt, and the cached files it takes chunks from. */
interface Building {
  file: FileRebuild;
  sources: Set<Oid>;
  reused: number;
}

/**
 * Rebuilds `files` into the cache, taking the chunks in `local` from cached files, hashing each file
 * as it is written; a file whose chunks all lie raw in packs the remote keeps on this machine is
 * copied from them directly (see local-pack-copy.ts). Returns the files that used local chunks and
 * came out wrong (to be fetched again from the remote alone); any other mismatch is the remote's and
 * is thrown.
 */
export async function rebuildFiles(ctx: RebuildContext, files: Map<Oid, Recipe>, local: Map<Oid, LocalChunk>): Promise<Oid[]> {
  const building = new Map<Oid, Building>();
  const wants: Map<string, Want[]> = new Map();
  // Chunks that arrive before their turn may wait in their read buffer, hashed from memory when it
  // comes, while at least one of the `jobs` reads stays free to fetch what they wait for.
  const gate = new ReorderGate(ctx.jobs - 1);
  let retry: Oid[];
  try {
    for (const [oid, recipe] of files) {
      const reads = planChunkReads(recipe, local, ctx.index);
      if (canCopyFromLocalPacks(ctx, reads)) {
        const tmp = ctx.store.newTempPath();
        const actual = copyFromLocalPacks(ctx, reads, tmp);
        if (actual !== undefined) {
          adopt(ctx, oid, recipe, tmp, actual, 0);
          continue;
        }
      }
      const state: Building = { file: new FileRebuild(ctx.store.newTempPath(), ctx.newHasher, recipe.size), sources: new Set(), reused: 0 };
      building.set(oid, state);
      for (const read of reads) {
        if (read.cachedIn) state.sources.add(read.cachedIn);
        addWant(wants, read.source, chunkWant(ctx, oid, state, read, gate));
      }
    }
    await readMembers(chunkReader(ctx), wants, ctx.jobs, (err) => gate.abort(err));
    retry = await adoptRebuilt(ctx, files, building);
  } finally {
    for (const { file } of building.values()) {
      await file.settle();
      file.discard();
    }
  }
  return retry;
}

/** Writes a chunk into its file at its offset once it arrives. */
function chunkWant(ctx: RebuildContext, oid: Oid, state: Building, read: ChunkRead, gate: ReorderGate): Want {
  const { chunk, size, fileOffset } = read;
  return {
    entry: read.entry,
    fileOffset,
    take: (bytes, range) => {
      // No per-chunk hash: the whole-file hash checks every chunk, and the file reaches the cache
      // only if it matches.
      if (bytes.length !== size) {
        const from = read.cachedIn ? `the cached ${read.cachedIn}` : describePack(ctx.remote, read.source);
        throw objectCorrupt(`chunk ${chunk} of ${oid} from ${from} has ${bytes.length} bytes, its recipe says ${size}`);
      }
      if (read.cachedIn) state.reused += size;
      ctx.progress?.({ bytes: size });
      return state.file.write(fileOffset, bytes, gate, range);
    },
  };
}

/** Reads from the remote's packs, or from a cached file for a source key naming one. */
function chunkReader(ctx: RebuildContext): RangeReader {
  const fromPacks = packReader(ctx.remote, ctx.summary);
  const fromCache = cachedFileReader(ctx.store);
  return (src, range, into) => (src.startsWith(CACHED_SOURCE) ? fromCache(src.slice(CACHED_SOURCE.length), range, into) : fromPacks(src, range, into));
}

/** Moves each rebuilt file that hashes right into the cache; returns those that used cached chunks and did not. */
async function adoptRebuilt(ctx: RebuildContext, files: Map<Oid, Recipe>, building: Map<Oid, Building>): Promise<Oid[]> {
  const retry: Oid[] = [];
  for (const [oid, { file, sources, reused }] of building) {
    const actual = await file.finish();
    if (actual !== oid && sources.size > 0) {
      retry.push(oid);
      quarantineDamaged(ctx, sources);
      continue;
    }
    adopt(ctx, oid, files.get(oid)!, file.tmp, actual, reused);
  }
  return retry;
}

/** Moves a rebuilt file into the cache if it hashed to `oid` (else OBJECT_CORRUPT, nothing stored), and remembers its chunks. */
function adopt(ctx: RebuildContext, oid: Oid, recipe: Recipe, tmp: string, actual: Oid, reused: number): void {
  ctx.store.adoptTempFile(tmp, oid, `${ctx.remote.url} (rebuilt from chunks)`, actual);
  saveRecipe(ctx.store, oid, recipe.chunks);
  ctx.summary.bytesReused += reused;
  ctx.summary.fetched++;
  ctx.progress?.({ files: 1 });
}

/** Re-hashes cached files whose chunks went into a rebuild that came out wrong: a damaged one is quarantined, so no later pull reuses it. */
function quarantineDamaged({ store, index }: RebuildContext, sources: Set<Oid>): void {
  for (const source of sources) {
    try {
      store.verify(source);
    } catch (err) {
      if (!(err instanceof MlxError) || (err.code !== E.OBJECT_CORRUPT && err.code !== E.OBJECT_MISSING)) throw err;
      index.warnings.push(`${err.message}; what it was to give was fetched from the remote instead`);
    }
  }
}

/**
 * Ranged reads of cached files. It never fails: a file that cannot be read (removed meanwhile) gives
 * zeros, so the rebuilt file does not hash right and is fetched again from the remote alone.
 */
function cachedFileReader(store: ObjectStore): RangeReader {
  return async (hex, range, into) => {
    const want = range.end - range.start;
    const out = want <= into.length ? into.subarray(0, want) : Buffer.allocUnsafe(want);
    let n = 0;
    try {
      const fd = fs.openSync(store.pathOf(oidFromHex(hex)), 'r');
      try {
        for (let got = -1; n < want && got !== 0; n += got) got = fs.readSync(fd, out, n, want - n, range.start + n);
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      // fall through: zeros
    }
    out.fill(0, n);
    return out;
  };
}
