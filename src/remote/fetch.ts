import type { HasherFactory } from '../hash/blake3.js';
import type { Oid } from '../hash/oid.js';
import { parseRecipe, recipeOffsets, type Recipe } from '../formats/recipe.js';
import type { ObjectStore } from '../store/object-store.js';
import { ensureLayout } from './layout.js';
import { FileRebuild, ReorderGate } from './file-rebuild.js';
import { E, MlxError } from '../util/errors.js';
import type { Remote } from './remote.js';
import type { RemoteIndex } from './remote-index.js';
import { addWant, readMembers, type Want } from './member-reads.js';
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
  /** Objects no published pack of the remote holds. */
  missingOnRemote: Oid[];
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
      : (bytes: Buffer) => void recipes.set(oid, parseRecipe(bytes, `recipe of ${oid} in ${source(loc.packKeyHex)}`));
    addWant(phase1, loc.packKeyHex, { entry: loc.entry, take });
  }
  await readMembers(remote, phase1, jobs, summary);

  // Phase 2: rebuild each large file from its chunks, hashing the whole file as it is written.
  if (recipes.size > 0) {
    const files = new Map<Oid, FileRebuild>();
    const phase2: Map<string, Want[]> = new Map();
    // Chunks that arrive before their turn may wait in their read buffer, hashed from memory when it
    // comes, while at least one of the `jobs` reads stays free to fetch what they wait for.
    const gate = new ReorderGate(jobs - 1);
    try {
      for (const [oid, recipe] of recipes) {
        // A recipe that names a chunk the remote lacks (a pack lost since) cannot rebuild its file:
        // the file counts as not on the remote, and a push from a machine that has it repairs that.
        const lost = recipe.chunks.find(([chunkOid]) => index.locate(chunkOid)?.entry.t !== 'b');
        if (lost) {
          summary.missingOnRemote.push(oid);
          index.warnings.push(`the recipe of ${oid} names chunk ${lost[0]}, which the remote does not have`);
          continue;
        }
        const file = new FileRebuild(store.newTempPath(), newHasher, recipe.size);
        files.set(oid, file);
        const offsets = recipeOffsets(recipe);
        recipe.chunks.forEach(([chunkOid, size], i) => {
          const loc = index.locate(chunkOid)!;
          addWant(phase2, loc.packKeyHex, {
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
      await readMembers(remote, phase2, jobs, summary, (err) => gate.abort(err));
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
