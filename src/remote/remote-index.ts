import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { loadHasher, type HasherFactory } from '../hash/blake3.js';
import { hashBytes } from '../hash/hash-file.js';
import { type Oid, oidFromHex, oidHex } from '../hash/oid.js';
import { consolidatedPackIndexes } from '../formats/consolidated-index.js';
import { parsePackIndex, type PackEntry, type PackIndex, type PackMemberType } from '../formats/pack-index.js';
import type { Recipe } from '../formats/recipe.js';
import { writeFileAtomicSync } from '../util/fs.js';
import { E, MlxError, badPackIndex, remoteCorrupt } from '../util/errors.js';
import { failpoint } from '../util/failpoint.js';
import { CONSOLIDATED_PREFIX, consolidatedIndexes, consolidatedKey, damagedCopies, indexKey, packKey, PACKS_PREFIX, publishedPacks } from './layout.js';
import { DigestSlots, OID_BYTES, PackTable, writeOidBytes, type TableRow } from './pack-table.js';
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
  /** Every pack added, by number (a forgotten one stays until the next `forget` renumbers). */
  private readonly tables: PackTable[] = [];
  /** Where each object is: one row of one of `tables`. */
  private readonly objects = new DigestSlots(this.tables);
  /** Further copies of objects that more than one pack holds (a repaired object, concurrent pushes). */
  private readonly otherCopies = new Map<Oid, TableRow[]>();
  /** Room for the digest of the oid being looked up. */
  private readonly key = Buffer.alloc(OID_BYTES);
  readonly packs = new Map<string, PackTable>();
  /**
   * The consolidated indexes read (hex -> the packs each holds, published or not). A copy only: which
   * packs exist is still said by the listing of pack indexes.
   */
  readonly consolidated = new Map<string, string[]>();
  /** Published indexes that were not used (unreadable, or their pack is missing or the wrong size). */
  readonly warnings: string[] = [];

  private constructor(
    readonly remote: Remote,
    /** The local folder of this remote's downloaded indexes. */
    readonly cacheDir: string,
  ) {}

  static async load(remote: Remote, cacheDir: string, jobs = 8): Promise<RemoteIndex> {
    const dir = path.join(cacheDir, crypto.createHash('sha256').update(remote.url).digest('hex').slice(0, 16));
    const idx = new RemoteIndex(remote, dir);
    const [listing, consolidatedListing] = await Promise.all([remote.list(PACKS_PREFIX), remote.list(CONSOLIDATED_PREFIX)]);
    // After the listing: a remote that does not answer leaves no trace in the cache.
    fs.mkdirSync(dir, { recursive: true });
    await failpoint('remote-index.after-list');
    const sizes = new Map(listing.map((o) => [o.key, o.size]));
    // Consolidated indexes first: each pack they hold needs no request of its own.
    const copies = new Map<string, PackTable>();
    const newHasher = await loadHasher();
    await inParallel(consolidatedIndexes(consolidatedListing.map((o) => o.key)), jobs, async (hex) => {
      let tables: PackTable[];
      try {
        tables = await readConsolidated(remote, dir, hex, newHasher);
      } catch (err) {
        if (!(err instanceof MlxError) || !UNUSABLE_INDEX.has(err.code)) throw err;
        // Retired since the listing (a larger one holds its packs), or damaged: either way each of its
        // packs is still published by its own index, which is read instead.
        if (err.code !== E.REMOTE_NOT_FOUND) idx.warnings.push(`ignored ${consolidatedKey(hex)}: ${err.message}`);
        return;
      }
      for (const table of tables) copies.set(table.hex, table);
      idx.consolidated.set(hex, tables.map((t) => t.hex));
    });
    await inParallel(publishedPacks(listing.map((o) => o.key)), jobs, async (hex) => {
      let index = copies.get(hex);
      if (index === undefined) {
        try {
          index = PackTable.from(await readIndex(remote, dir, hex));
        } catch (err) {
          // Only a damaged or vanished index is passed over; a failed download (network, credentials)
          // says nothing about the remote's data and ends the command, or its objects would be
          // reported as never pushed.
          if (!(err instanceof MlxError) || !UNUSABLE_INDEX.has(err.code)) throw err;
          idx.warnings.push(`ignored ${indexKey(oidFromHex(hex))}: ${err.message}`);
          return;
        }
      }
      // An index whose pack is gone or damaged names nothing usable: its objects count as absent,
      // so the next push sends them again and repairs the remote.
      const packSize = sizes.get(packKey(oidFromHex(hex)));
      if (packSize !== index.size) {
        idx.warnings.push(`ignored pack ${hex.slice(0, 12)}: ${packSize === undefined ? 'its pack file is missing' : `its pack has ${packSize} bytes, the index says ${index.size}`}`);
        return;
      }
      idx.addPack(hex, index);
    });
    for (const bad of damagedCopies(listing.map((o) => o.key))) idx.avoid(bad.packHex, bad.oid);
    return idx;
  }

  /** Packs whose index this index holds but no consolidated index does: what the next consolidation takes in. */
  unconsolidatedPacks(): string[] {
    const covered = new Set<string>();
    for (const packs of this.consolidated.values()) for (const hex of packs) covered.add(hex);
    return [...this.packs.keys()].filter((hex) => !covered.has(hex));
  }

  /** Records a consolidated index this process published, and the ones it retired. */
  recordConsolidation(hex: string, packs: string[], retired: Iterable<string>): void {
    for (const old of retired) this.consolidated.delete(old);
    this.consolidated.set(hex, packs);
  }

  /** Stops using the copy of `oid` in this pack when another copy exists. */
  private avoid(packHex: string, oid: Oid): void {
    if (!writeOidBytes(oid, this.key)) return;
    const inPack = (r: TableRow) => this.tables[r.no]!.hex === packHex;
    const others = (this.otherCopies.get(oid) ?? []).filter((r) => !inPack(r));
    const current = this.objects.get(this.key);
    if (current && inPack(current)) {
      const next = others.find((r) => this.tables[r.no]!.typeAt(r.row) === 'b') ?? others[0];
      if (!next) return; // the only copy: keep it, a read will say it is damaged
      this.objects.set(next);
      others.splice(others.indexOf(next), 1);
    }
    if (others.length) this.otherCopies.set(oid, others);
    else this.otherCopies.delete(oid);
  }

  /** Records a pack this process just published. */
  addPack(hex: string, index: PackIndex | PackTable): void {
    const table = index instanceof PackTable ? index : PackTable.from(index);
    this.packs.set(hex, table);
    const no = this.tables.push(table) - 1;
    for (let row = 0; row < table.count; row++) {
      const here = { no, row };
      const prev = this.objects.get(table.digests, row * OID_BYTES);
      if (!prev) {
        this.objects.set(here);
        continue;
      }
      // A blob beats a recipe for the same oid: one ranged read instead of a reassembly.
      const prevTable = this.tables[prev.no]!;
      const blobOverRecipe = prevTable.typeAt(prev.row) === 'r' && table.typeAt(row) === 'b';
      if (blobOverRecipe) this.objects.set(here);
      const other = blobOverRecipe ? prev : here;
      const oid = table.oidAt(row);
      const list = this.otherCopies.get(oid);
      if (list) list.push(other);
      else this.otherCopies.set(oid, [other]);
    }
  }

  /** Stops answering from these packs (planned for removal): their objects count as absent. */
  forget(packs: Set<string>): void {
    if (packs.size === 0) return;
    const kept = [...this.packs].filter(([hex]) => !packs.has(hex));
    this.packs.clear();
    this.tables.length = 0;
    this.objects.clear();
    this.otherCopies.clear();
    for (const [hex, table] of kept) this.addPack(hex, table);
  }

  /** Stops answering for these objects (found unusable): they count as absent. */
  drop(oid: Oid): void {
    if (writeOidBytes(oid, this.key)) this.objects.delete(this.key);
    this.otherCopies.delete(oid);
  }

  /** The first chunk of `recipe` this remote does not hold as a blob, if any: the file cannot be rebuilt. */
  missingChunk(recipe: Recipe): Oid | undefined {
    return recipe.chunks.find(([chunk]) => {
      const at = this.rowOf(chunk);
      return at === undefined || this.tables[at.no]!.typeAt(at.row) !== 'b';
    })?.[0];
  }

  has(oid: Oid): boolean {
    return this.rowOf(oid) !== undefined;
  }

  /**
   * The type of the copy of the object at `i` in `list`, or undefined when the remote lacks it: looked
   * up by its digest where the list holds it, with no oid string made.
   */
  typeOfListed(list: { readonly digests: Buffer }, i: number): PackMemberType | undefined {
    const at = this.objects.get(list.digests, i * OID_BYTES);
    return at && this.tables[at.no]!.typeAt(at.row);
  }

  /** The type of the copy `locate` would return, without making its entry. */
  typeOf(oid: Oid): PackMemberType | undefined {
    const at = this.rowOf(oid);
    return at && this.tables[at.no]!.typeAt(at.row);
  }

  locate(oid: Oid): Located | undefined {
    const at = this.rowOf(oid);
    if (at === undefined) return undefined;
    const table = this.tables[at.no]!;
    return { packHex: table.hex, entry: table.entryAt(at.row, oid) };
  }

  /**
   * Where `oid` lies without making its entry: the number of its pack (stable while no pack is
   * forgotten) and its offset there. Fetches order their reads by it.
   */
  placeOf(oid: Oid): { pack: number; offset: number } | undefined {
    const at = this.rowOf(oid);
    return at && { pack: at.no, offset: this.tables[at.no]!.offsetAt(at.row) };
  }

  get objectCount(): number {
    return this.objects.size;
  }

  private rowOf(oid: Oid): TableRow | undefined {
    return writeOidBytes(oid, this.key) ? this.objects.get(this.key) : undefined;
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

/**
 * The packs of a consolidated index, from the local folder or downloaded; its bytes must hash to its
 * name. Each pack index is made compact as soon as it is parsed: never are all of them objects at once.
 */
async function readConsolidated(remote: Remote, dir: string, hex: string, newHasher: HasherFactory): Promise<PackTable[]> {
  const local = path.join(dir, `${hex}.midx`);
  const tablesOf = (bytes: Uint8Array, source: string) => Array.from(consolidatedPackIndexes(bytes, source), (index) => PackTable.from(index));
  try {
    // Written here only after its hash was checked.
    return tablesOf(fs.readFileSync(local), local);
  } catch (err) {
    if (!(err instanceof MlxError) && (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = consolidatedKey(hex);
  const bytes = await remote.get(key);
  const actual = oidHex(hashBytes(newHasher, bytes));
  if (actual !== hex) throw remoteCorrupt(`${remote.url}/${key} is corrupt: its bytes hash to ${actual}`, { key });
  const parsed = tablesOf(bytes, `${remote.url}/${key}`);
  writeFileAtomicSync(local, bytes, { durable: false });
  return parsed;
}

/** Runs `work` on every item, at most `jobs` at a time. */
async function inParallel<T>(items: T[], jobs: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, worker));
}

function check(index: PackIndex, hex: string): PackIndex {
  if (index.pack !== oidFromHex(hex)) throw badPackIndex(`pack index ${hex}.idx describes another pack (${index.pack})`);
  return index;
}
