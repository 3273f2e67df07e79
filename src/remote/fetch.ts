import fs from 'node:fs';
import type { HasherFactory } from '../hash/blake3.js';
import type { Oid } from '../hash/oid.js';
import type { PackEntry } from '../formats/pack-index.js';
import { parseRecipe, recipeOffsets, type Recipe } from '../formats/recipe.js';
import type { ObjectStore } from '../store/object-store.js';
import { ensureLayout, packKey } from './layout.js';
import { extractMember, verifyMember } from './pack.js';
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
/** ... as long as one GET stays below this. */
const MAX_RANGE = 16 << 20;

interface Want {
  entry: PackEntry;
  /** Called with the member's decoded bytes. */
  take: (bytes: Buffer) => void;
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
    push(phase1, loc.packKeyHex, { entry: loc.entry, take });
  }
  await fetchGroups(remote, phase1, jobs, summary);

  // Phase 2: rebuild each large file from its chunks, then verify it as a whole.
  if (recipes.size > 0) {
    const files = new Map<Oid, { tmp: string; fd: number }>();
    const phase2: Map<string, Want[]> = new Map();
    try {
      for (const [oid, recipe] of recipes) {
        const tmp = store.newTempPath();
        files.set(oid, { tmp, fd: fs.openSync(tmp, 'wx', 0o644) });
        const offsets = recipeOffsets(recipe);
        recipe.chunks.forEach(([chunkOid, size], i) => {
          const loc = index.locate(chunkOid);
          if (!loc || loc.entry.t !== 'b') throw new Error(`internal: chunk ${chunkOid} of ${oid} is not on the remote`);
          push(phase2, loc.packKeyHex, {
            entry: loc.entry,
            take: (bytes) => {
              verifyMember(newHasher, chunkOid, bytes);
              fs.writeSync(files.get(oid)!.fd, bytes, 0, size, offsets[i]!);
              opts.progress?.({ bytes: size });
            },
          });
        });
      }
      await fetchGroups(remote, phase2, jobs, summary);
      for (const [oid, f] of files) {
        fs.closeSync(f.fd);
        f.fd = -1;
        store.adoptTempFile(f.tmp, oid, `${remote.url} (rebuilt from chunks)`);
        summary.fetched++;
        opts.progress?.({ files: 1 });
      }
    } finally {
      for (const f of files.values()) {
        if (f.fd >= 0) fs.closeSync(f.fd);
        fs.rmSync(f.tmp, { force: true });
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

/** Fetches every wanted member, pack by pack, coalescing neighbours into one ranged GET. */
async function fetchGroups(remote: Remote, groups: Map<string, Want[]>, jobs: number, summary: FetchSummary): Promise<void> {
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
  await runPool(ranges, jobs, async (r) => {
    const bytes = await remote.get(packKey(`b3:${r.hex}`), { start: r.start, end: r.end });
    summary.bytesReceived += bytes.length;
    for (const w of r.wants) w.take(extractMember(bytes, w.entry, r.start));
  });
}
