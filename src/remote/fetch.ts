import type { HasherFactory } from '../hash/blake3.js';
import type { Oid } from '../hash/oid.js';
import type { PackEntry } from '../formats/pack-index.js';
import { parseRecipe, recipeOffsets, type Recipe } from '../formats/recipe.js';
import type { ObjectStore } from '../store/object-store.js';
import { ensureLayout, packKey } from './layout.js';
import { FileRebuild, ReorderGate } from './file-rebuild.js';
import { extractMember } from './pack.js';
import { E, MlxError } from '../util/errors.js';
import type { Remote } from './remote.js';
import type { RemoteIndex } from './remote-index.js';
import { runPool, type TransferProgress } from './transfer-progress.js';

export interface FetchOptions {
  jobs?: number;
  progress?: TransferProgress;
}

export interface FetchSummary {
  requested: number;
  alreadyLocal: number;
  fetched: number;
  bytesReceived: number;
  /** Objects no published pack of the remote holds. */
  missingOnRemote: Oid[];
}

/** Neighbouring members closer than this are fetched with one ranged GET. */
const MAX_GAP = 1 << 20;
/** ... as long as one GET stays below this (a single larger member gets a GET, and a buffer, of its own). */
const MAX_RANGE = 16 << 20;

interface Want {
  entry: PackEntry;
  /** For a chunk: where it goes in its file. Ranges are fetched in file order, so hashing rarely waits. */
  fileOffset?: number;
  /**
   * Called with the member's decoded bytes, which stay valid until the promise it may return settles
   * (the buffer they live in is reused afterwards). `range` identifies the ranged read (and so the
   * buffer) the bytes came in.
   */
  take: (bytes: Buffer, range: object) => void | Promise<void>;
}

/**
 * Downloads objects into the cache. Blobs arrive by ranged GETs of their packs (neighbours coalesced);
 * large files are rebuilt from their chunks into a temp file at the right offsets. Every blob and
 * chunk is checked against its oid, and every rebuilt file against the file's oid, before it enters
 * the cache: tampered or truncated remote data is refused and nothing of it is stored.
 */
export async function fetchObjects(store: ObjectStore, newHasher: HasherFactory, remote: Remote, index: RemoteIndex, oids: Oid[], opts: FetchOptions = {}): Promise<FetchSummary> {
  const jobs = Math.max(1, opts.jobs ?? 8);
  const wanted = [...new Set(oids)];
  const need = [...store.missing(wanted)];
  const summary: FetchSummary = { requested: wanted.length, alreadyLocal: wanted.length - need.length, fetched: 0, bytesReceived: 0, missingOnRemote: [] };
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
    push(phase1, loc.packKeyHex, { entry: loc.entry, take });
  }
  await fetchGroups(remote, phase1, jobs, summary);

  // Phase 2: rebuild each large file from its chunks, hashing the whole file as it is written.
  if (recipes.size > 0) {
    const files = new Map<Oid, FileRebuild>();
    const phase2: Map<string, Want[]> = new Map();
    // Chunks that arrive before their turn may wait in their read buffer, hashed from memory when it
    // comes, while at least one of the `jobs` reads stays free to fetch what they wait for.
    const gate = new ReorderGate(jobs - 1);
    try {
      for (const [oid, recipe] of recipes) {
        const file = new FileRebuild(store.newTempPath(), newHasher, recipe.size);
        files.set(oid, file);
        const offsets = recipeOffsets(recipe);
        recipe.chunks.forEach(([chunkOid, size], i) => {
          const loc = index.locate(chunkOid);
          if (!loc || loc.entry.t !== 'b') throw new Error(`internal: chunk ${chunkOid} of ${oid} is not on the remote`);
          push(phase2, loc.packKeyHex, {
            entry: loc.entry,
            fileOffset: offsets[i]!,
            take: (bytes, range) => {
              // No per-chunk hash: the whole-file hash checks every chunk, and the file reaches the
              // cache only if it matches.
              if (bytes.length !== size) throw new MlxError(E.OBJECT_CORRUPT, `chunk ${chunkOid} of ${oid} from ${source(loc.packKeyHex)} has ${bytes.length} bytes, its recipe says ${size}`);
              opts.progress?.({ bytes: size });
              return file.write(offsets[i]!, bytes, gate, range);
            },
          });
        });
      }
      await fetchGroups(remote, phase2, jobs, summary, (err) => gate.abort(err));
      for (const [oid, file] of files) {
        const actual = await file.finish();
        store.adoptTempFile(file.tmp, oid, `${remote.url} (rebuilt from chunks)`, actual);
        summary.fetched++;
        opts.progress?.({ files: 1 });
      }
    } finally {
      for (const file of files.values()) {
        await file.settle();
        file.discard();
      }
    }
  }
  return summary;
}

function push(groups: Map<string, Want[]>, hex: string, want: Want): void {
  let list = groups.get(hex);
  if (!list) groups.set(hex, (list = []));
  list.push(want);
}

/**
 * Fetches every wanted member, pack by pack, coalescing neighbours into one ranged GET. `onFailure`
 * hears of the first failed read at once (the pool itself waits for the reads still in flight).
 */
async function fetchGroups(remote: Remote, groups: Map<string, Want[]>, jobs: number, summary: FetchSummary, onFailure?: (err: unknown) => void): Promise<void> {
  const ranges: { hex: string; start: number; end: number; wants: Want[] }[] = [];
  for (const [hex, wants] of groups) {
    wants.sort((a, b) => a.entry.off - b.entry.off);
    let cur: (typeof ranges)[number] | undefined;
    for (const w of wants) {
      const end = w.entry.off + w.entry.len;
      if (cur && w.entry.off - cur.end <= MAX_GAP && end - cur.start <= MAX_RANGE) {
        cur.end = Math.max(cur.end, end);
        cur.wants.push(w);
      } else {
        cur = { hex, start: w.entry.off, end, wants: [w] };
        ranges.push(cur);
      }
    }
  }
  // Chunks of a large file: fetch the ranges in the order of the file, so it is hashed as it is written.
  const firstOffset = (r: (typeof ranges)[number]) => r.wants.reduce((min, w) => Math.min(min, w.fileOffset ?? Infinity), Infinity);
  if (ranges.some((r) => r.wants[0]!.fileOffset !== undefined)) ranges.sort((a, b) => firstOffset(a) - firstOffset(b));
  // Each of the `jobs` workers reads into its own reused buffer (see Remote.get).
  const buffers: Buffer[] = [];
  const longest = ranges.reduce((max, r) => Math.max(max, r.end - r.start), 0);
  await runPool(ranges, jobs, async (r) => {
    const scratch = buffers.pop() ?? Buffer.allocUnsafe(Math.min(MAX_RANGE, longest));
    try {
      const bytes = await remote.get(packKey(`b3:${r.hex}`), { start: r.start, end: r.end }, scratch);
      summary.bytesReceived += bytes.length;
      const writing: Promise<void>[] = [];
      for (const w of r.wants) {
        const done = w.take(extractMember(bytes, w.entry, r.start), r);
        if (done) writing.push(done);
      }
      // Every write must be over before the buffer is reused, even when one of them failed.
      const failed = (await Promise.allSettled(writing)).find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    } catch (err) {
      onFailure?.(err);
      throw err;
    } finally {
      buffers.push(scratch);
    }
  });
}
