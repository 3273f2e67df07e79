import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { type Oid, oidFromHex } from '../hash/oid.js';
import { parsePackIndex, type PackEntry, type PackIndex } from '../formats/pack-index.js';
import type { Recipe } from '../formats/recipe.js';
import { writeFileAtomicSync } from '../util/fs.js';
import { E, MlxError, badPackIndex } from '../util/errors.js';
import { damagedCopies, indexKey, packKey, PACKS_PREFIX, publishedPacks } from './layout.js';
import type { Remote } from './remote.js';

/** Why a published index can be unusable while the remote itself answers: its bytes are bad, or it is gone. */
const UNUSABLE_INDEX = new Set<string>([E.BAD_PACK_INDEX, E.REMOTE_CORRUPT, E.REMOTE_NOT_FOUND]);

/** Where an object lives on a remote. */
export interface Located {
  packHex: string;
  entry: PackEntry;
}

/**
 * What a remote holds: the union of its published pack indexes. Pack indexes are immutable, so each
 * is downloaded once and kept in a local folder; answering "what does the remote have" costs one
 * listing plus the indexes published since the last look.
 */
export class RemoteIndex {
  private readonly objects = new Map<Oid, Located>();
  /** Further copies of objects that more than one pack holds (a repaired object, concurrent pushes). */
  private readonly otherCopies = new Map<Oid, Located[]>();
  readonly packs = new Map<string, PackIndex>();
  /** Published indexes that were not used (unreadable, or their pack is missing or the wrong size). */
  readonly warnings: string[] = [];

  private constructor(readonly remote: Remote) {}

  static async load(remote: Remote, cacheDir: string, jobs = 8): Promise<RemoteIndex> {
    const idx = new RemoteIndex(remote);
    const dir = path.join(cacheDir, crypto.createHash('sha256').update(remote.url).digest('hex').slice(0, 16));
    fs.mkdirSync(dir, { recursive: true });
    const listing = await remote.list(PACKS_PREFIX);
    const sizes = new Map(listing.map((o) => [o.key, o.size]));
    const queue = publishedPacks(listing.map((o) => o.key));
    const worker = async () => {
      for (let hex = queue.shift(); hex !== undefined; hex = queue.shift()) {
        let index: PackIndex;
        try {
          index = await readIndex(remote, dir, hex);
        } catch (err) {
          // Only a damaged or vanished index is passed over; a failed download (network, credentials)
          // says nothing about the remote's data and ends the command, or its objects would be
          // reported as never pushed.
          if (!(err instanceof MlxError) || !UNUSABLE_INDEX.has(err.code)) throw err;
          idx.warnings.push(`ignored ${indexKey(oidFromHex(hex))}: ${err.message}`);
          continue;
        }
        // An index whose pack is gone or damaged names nothing usable: its objects count as absent,
        // so the next push sends them again and repairs the remote.
        const packSize = sizes.get(packKey(oidFromHex(hex)));
        if (packSize !== index.size) {
          idx.warnings.push(`ignored pack ${hex.slice(0, 12)}: ${packSize === undefined ? 'its pack file is missing' : `its pack has ${packSize} bytes, the index says ${index.size}`}`);
          continue;
        }
        idx.addPack(hex, index);
      }
    };
    await Promise.all(Array.from({ length: Math.min(jobs, queue.length) }, worker));
    for (const bad of damagedCopies(listing.map((o) => o.key))) idx.avoid(bad.packHex, bad.oid);
    return idx;
  }

  /** Stops using the copy of `oid` in this pack when another copy exists. */
  private avoid(packHex: string, oid: Oid): void {
    const others = (this.otherCopies.get(oid) ?? []).filter((l) => l.packHex !== packHex);
    const current = this.objects.get(oid);
    if (current?.packHex === packHex) {
      const next = others.find((l) => l.entry.t === 'b') ?? others[0];
      if (!next) return; // the only copy: keep it, a read will say it is damaged
      this.objects.set(oid, next);
      others.splice(others.indexOf(next), 1);
    }
    if (others.length) this.otherCopies.set(oid, others);
    else this.otherCopies.delete(oid);
  }

  /** Records a pack this process just published. */
  addPack(hex: string, index: PackIndex): void {
    this.packs.set(hex, index);
    for (const entry of index.entries) {
      // A blob beats a recipe for the same oid: one ranged read instead of a reassembly.
      const prev = this.objects.get(entry.o);
      const here = { packHex: hex, entry };
      if (!prev) {
        this.objects.set(entry.o, here);
        continue;
      }
      const other = prev.entry.t === 'r' && entry.t === 'b' ? (this.objects.set(entry.o, here), prev) : here;
      const list = this.otherCopies.get(entry.o);
      if (list) list.push(other);
      else this.otherCopies.set(entry.o, [other]);
    }
  }

  /** Stops answering from these packs (planned for removal): their objects count as absent. */
  forget(packs: Set<string>): void {
    if (packs.size === 0) return;
    const kept = [...this.packs].filter(([hex]) => !packs.has(hex));
    this.packs.clear();
    this.objects.clear();
    this.otherCopies.clear();
    for (const [hex, idx] of kept) this.addPack(hex, idx);
  }

  /** Stops answering for these objects (found unusable): they count as absent. */
  drop(oid: Oid): void {
    this.objects.delete(oid);
    this.otherCopies.delete(oid);
  }

  /** The first chunk of `recipe` this remote does not hold as a blob, if any: the file cannot be rebuilt. */
  missingChunk(recipe: Recipe): Oid | undefined {
    return recipe.chunks.find(([chunk]) => this.objects.get(chunk)?.entry.t !== 'b')?.[0];
  }

  has(oid: Oid): boolean {
    return this.objects.has(oid);
  }

  locate(oid: Oid): Located | undefined {
    return this.objects.get(oid);
  }

  get objectCount(): number {
    return this.objects.size;
  }
}

async function readIndex(remote: Remote, dir: string, hex: string): Promise<PackIndex> {
  const local = path.join(dir, `${hex}.idx`);
  const source = `${remote.url}/${indexKey(oidFromHex(hex))}`;
  try {
    return check(parsePackIndex(fs.readFileSync(local), local), hex);
  } catch (err) {
    if (!(err instanceof MlxError) && (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    // Not cached yet (or the cached copy is damaged): fetch it again.
  }
  const bytes = await remote.get(indexKey(oidFromHex(hex)));
  const parsed = check(parsePackIndex(bytes, source), hex);
  writeFileAtomicSync(local, bytes, { durable: false });
  return parsed;
}

function check(index: PackIndex, hex: string): PackIndex {
  if (index.pack !== oidFromHex(hex)) throw badPackIndex(`pack index ${hex}.idx describes another pack (${index.pack})`);
  return index;
}
