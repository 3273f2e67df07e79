import fs from 'node:fs';
import type { HasherFactory } from '../hash/blake3.js';
import { oidFromHex, oidHex, type Oid } from '../hash/oid.js';
import { parseRecipe, recipeOffsets, type Recipe } from '../formats/recipe.js';
import { localChunks, saveRecipe, type LocalChunk } from '../store/chunk-map.js';
import type { ObjectStore } from '../store/object-store.js';
import { ensureLayout } from './layout.js';
import { FileRebuild, ReorderGate } from './file-rebuild.js';
import { E, MlxError } from '../util/errors.js';
import type { Remote } from './remote.js';
import type { RemoteIndex } from './remote-index.js';
import { addWant, packReader, readMembers, type RangeReader, type Want } from './member-reads.js';
import type { TransferProgress } from './transfer-progress.js';

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

/**
 * Downloads objects into the cache. Blobs arrive by ranged GETs of their packs (neighbours coalesced);
 * large files are rebuilt from their chunks into a temp file at the right offsets, chunks shared with
 * a cached older version read from that file. Every blob and chunk is checked against its oid, and
 * every rebuilt file against the file's oid, before it enters the cache: tampered or truncated remote
 * data is refused and nothing of it is stored.
 */
export async function fetchObjects(store: ObjectStore, newHasher: HasherFactory, remote: Remote, index: RemoteIndex, oids: Oid[], opts: FetchOptions = {}): Promise<FetchSummary> {
  const jobs = Math.max(1, opts.jobs ?? 8);
  const wanted = [...new Set(oids)];
  const need = [...store.missing(wanted)];
  const summary: FetchSummary = { requested: wanted.length, alreadyLocal: wanted.length - need.length, fetched: 0, bytesReceived: 0, bytesReused: 0, missingOnRemote: [] };
  const located = need.filter((o) => {
    if (index.has(o)) return true;
    summary.missingOnRemote.push(o);
    return false;
  });
  if (located.length === 0) return summary;
  await ensureLayout(remote, false);
  opts.progress?.({ totalFiles: located.length, totalBytes: located.reduce((n, o) => n + index.locate(o)!.entry.raw, 0) });
  const source = (hex: string) => `${remote.url} (pack ${hex.slice(0, 12)})`;

  // Phase 1: blobs go straight to the cache; recipes are collected.
  const recipes = new Map<Oid, Recipe>();
  const phase1: Map<string, Want[]> = new Map();
  for (const oid of located) {
    const loc = index.locate(oid)!;
    const take = loc.entry.t === 'b'
      ? (bytes: Buffer) => {
          store.putVerified(oid, bytes, source(loc.packKeyHex));
          summary.fetched++;
          opts.progress?.({ files: 1, bytes: bytes.length });
        }
      : (bytes: Buffer) => void recipes.set(oid, parseRecipe(bytes, `of ${oid} in ${source(loc.packKeyHex)}`));
    addWant(phase1, loc.packKeyHex, { entry: loc.entry, take });
  }
  await readMembers(packReader(remote, summary), phase1, jobs);

  // Phase 2: rebuild each large file from its chunks, hashing the whole file as it is written. Chunks
  // that a file already in the cache holds (an older version) are read from there, not the remote.
  const rebuildable = new Map<Oid, Recipe>();
  for (const [oid, recipe] of recipes) {
    // A recipe that names a chunk the remote lacks (a pack lost since) cannot rebuild its file: the
    // file counts as not on the remote, and a push from a machine that has it repairs that.
    const lost = index.missingChunk(recipe);
    if (!lost) rebuildable.set(oid, recipe);
    else {
      summary.missingOnRemote.push(oid);
      index.warnings.push(`the recipe of ${oid} names chunk ${lost}, which the remote does not have`);
    }
  }
  if (rebuildable.size > 0) {
    const wantedChunks = new Set([...rebuildable.values()].flatMap((r) => r.chunks.map(([c]) => c)));
    const local = localChunks(store, wantedChunks);
    const retry = await rebuild(rebuildable, local);
    // A cached copy that was not what its recipe said (damaged since): those files again, all remote.
    if (retry.length > 0) await rebuild(new Map(retry.map((o) => [o, rebuildable.get(o)!])), new Map());
  }
  return summary;

  /**
   * Rebuilds `files` into the cache, taking the chunks in `local` from cached files. Returns the files
   * that used local chunks and came out wrong (to be fetched again from the remote alone); any other
   * mismatch is the remote's and is thrown.
   */
  async function rebuild(files: Map<Oid, Recipe>, local: Map<Oid, LocalChunk>): Promise<Oid[]> {
    const building = new Map<Oid, { file: FileRebuild; sources: Set<Oid>; reused: number }>();
    const wants: Map<string, Want[]> = new Map();
    // Chunks that arrive before their turn may wait in their read buffer, hashed from memory when it
    // comes, while at least one of the `jobs` reads stays free to fetch what they wait for.
    const gate = new ReorderGate(jobs - 1);
    const retry: Oid[] = [];
    try {
      for (const [oid, recipe] of files) {
        const file = new FileRebuild(store.newTempPath(), newHasher, recipe.size);
        const state = { file, sources: new Set<Oid>(), reused: 0 };
        building.set(oid, state);
        const offsets = recipeOffsets(recipe);
        recipe.chunks.forEach(([chunkOid, size], i) => {
          const mine = local.get(chunkOid);
          const loc = index.locate(chunkOid)!;
          if (mine) state.sources.add(mine.file);
          const from = mine ? `the cached ${mine.file}` : source(loc.packKeyHex);
          addWant(wants, mine ? `${LOCAL}${oidHex(mine.file)}` : loc.packKeyHex, {
            entry: mine ? { o: chunkOid, t: 'b', off: mine.offset, len: size, raw: size, c: 'none' } : loc.entry,
            fileOffset: offsets[i]!,
            take: (bytes, range) => {
              // No per-chunk hash: the whole-file hash checks every chunk, and the file reaches the
              // cache only if it matches.
              if (bytes.length !== size) throw new MlxError(E.OBJECT_CORRUPT, `chunk ${chunkOid} of ${oid} from ${from} has ${bytes.length} bytes, its recipe says ${size}`);
              if (mine) state.reused += size;
              opts.progress?.({ bytes: size });
              return file.write(offsets[i]!, bytes, gate, range);
            },
          });
        });
      }
      const fromPacks = packReader(remote, summary);
      const fromCache = cachedFileReader(store);
      await readMembers((src, range, into) => (src.startsWith(LOCAL) ? fromCache(src.slice(LOCAL.length), range, into) : fromPacks(src, range, into)), wants, jobs, (err) =>
        gate.abort(err),
      );
      for (const [oid, { file, sources, reused }] of building) {
        const actual = await file.finish();
        if (actual !== oid && sources.size > 0) {
          retry.push(oid);
          quarantineDamaged(sources);
          continue;
        }
        store.adoptTempFile(file.tmp, oid, `${remote.url} (rebuilt from chunks)`, actual);
        saveRecipe(store, oid, files.get(oid)!.chunks);
        summary.bytesReused += reused;
        summary.fetched++;
        opts.progress?.({ files: 1 });
      }
    } finally {
      for (const { file } of building.values()) {
        await file.settle();
        file.discard();
      }
    }
    return retry;
  }

  /** Re-hashes cached files whose chunks went into a rebuild that came out wrong: a damaged one is quarantined, so no later pull reuses it. */
  function quarantineDamaged(sources: Set<Oid>): void {
    for (const source of sources) {
      try {
        store.verify(source);
      } catch (err) {
        if (!(err instanceof MlxError) || (err.code !== E.OBJECT_CORRUPT && err.code !== E.OBJECT_MISSING)) throw err;
        index.warnings.push(`${err.message}; what it was to give was fetched from the remote instead`);
      }
    }
  }
}

/** Source keys of wanted chunks that a cached file holds: this prefix and the file's oid hex. */
const LOCAL = 'cache:';

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

