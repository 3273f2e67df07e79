import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import crypto from 'node:crypto';
import { loadHasher } from '../hash/blake3.js';
import { type Oid, oidFromHex } from '../hash/oid.js';
import type { PackEntry, PackIndex, PackMemberType } from '../formats/pack-index.js';
import type { Recipe } from '../formats/recipe.js';
import { E, MlxError, remoteFailed } from '../util/errors.js';
import { failpoint } from '../util/failpoint.js';
import type { GoneRecord } from './gone-records.js';
import { type ListedIndexes, readConsolidated, readIndex, readListed, UNUSABLE_INDEX } from './index-files.js';
import { consolidatedIndexes, consolidatedKey, damagedCopies, INDEX_PREFIX, legacyIndexKey, packKey, PACKS_PREFIX, publishedPacks, readLayout, REMOTE_LAYOUT } from './layout.js';
import { DigestSlots, OID_BYTES, PackTable, writeOidBytes, type TableRow } from './pack-table.js';
import type { Remote } from './remote.js';
import { forEachLimited } from '../util/pool.js';

/** Listings of `index/` made by one load before it gives up on a remote whose indexes keep being retired under it. */
const MAX_LISTINGS = 5;

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
   * The consolidated indexes read (hex -> every pack each holds). In layout 3 they publish those packs
   * (minus the removed ones); in layouts 1 and 2 they are copies, and the listing of pack indexes says
   * which packs exist.
   */
  readonly consolidated = new Map<string, string[]>();
  /** Layout 3: the packs whose own index is listed at `index/<hex>.idx` (removed ones too). */
  readonly indexed = new Set<string>();
  /** Layout 3: the removal records listed, and every pack they or this process found removed. */
  readonly goneRecords: { key: string; record: GoneRecord }[] = [];
  readonly gone = new Set<string>();
  /** Layouts 1 and 2: the damaged-copy markers listed in `packs/` (an upgrade copies them into `index/`). */
  readonly legacyDamaged: { packHex: string; oid: Oid }[] = [];
  /** When (performance.now()) the listing this index was built from was made. */
  listedAt = 0;
  /** Published indexes that were not used (unreadable, or their pack is missing or the wrong size). */
  readonly warnings: string[] = [];

  private constructor(
    readonly remote: Remote,
    /** The local folder of this remote's downloaded indexes. */
    readonly cacheDir: string,
    /** The folder `cacheDir` is in (the one `load` was given). */
    readonly cacheRoot: string,
    /** The layout the remote's marker named when this was loaded (undefined: no marker yet). */
    readonly layout: number | undefined,
  ) {}

  /**
   * What `remote` publishes now. Layout 3: one listing of `index/` (spec/remote.md, "What a remote
   * has"). Layouts 1 and 2: listings of `packs/` and `index/`.
   */
  static async load(remote: Remote, cacheRoot: string, jobs = 8): Promise<RemoteIndex> {
    const dir = path.join(cacheRoot, crypto.createHash('sha256').update(remote.url).digest('hex').slice(0, 16));
    const idx = new RemoteIndex(remote, dir, cacheRoot, await readLayout(remote));
    if (idx.layout === REMOTE_LAYOUT) await idx.loadListed(jobs);
    else await idx.loadLegacy(jobs);
    return idx;
  }

  /**
   * Layout 3: every listed pack index and consolidated index publishes its packs, minus those a
   * listed removal record names. A listed file that is gone when read was retired by a consolidation
   * that published its packs first: a new listing holds them, so the listing is made again.
   */
  private async loadListed(jobs: number): Promise<void> {
    for (let listing = 1; ; listing++) {
      const keys = (await this.remote.list(INDEX_PREFIX)).map((o) => o.key);
      this.listedAt = performance.now();
      fs.mkdirSync(this.cacheDir, { recursive: true });
      await failpoint('remote-index.after-list');
      let read: ListedIndexes;
      try {
        read = await readListed(this.remote, this.cacheDir, keys, jobs);
      } catch (err) {
        if (!(err instanceof MlxError) || err.code !== E.REMOTE_NOT_FOUND) throw err;
        if (listing === MAX_LISTINGS) {
          throw remoteFailed(`the indexes of ${this.remote.url} kept changing while they were read (${err.message})`, { hint: 'run the command again' });
        }
        continue;
      }
      this.warnings.push(...read.warnings);
      for (const [hex, packs] of read.consolidated) this.consolidated.set(hex, packs);
      for (const hex of read.indexed) this.indexed.add(hex);
      this.goneRecords.push(...read.goneRecords);
      for (const { record } of read.goneRecords) for (const hex of record.packs) this.gone.add(hex);
      for (const [hex, table] of read.tables) if (!this.gone.has(hex)) this.addPack(hex, table);
      for (const bad of damagedCopies(keys)) this.avoid(bad.packHex, bad.oid);
      return;
    }
  }

  /** Layouts 1 and 2 (and a remote with no marker yet): the `.idx` files in `packs/` publish. */
  private async loadLegacy(jobs: number): Promise<void> {
    const { remote, cacheDir: dir } = this;
    const [listing, consolidatedListing] = await Promise.all([remote.list(PACKS_PREFIX), remote.list(INDEX_PREFIX)]);
    this.listedAt = performance.now();
    // After the listing: a remote that does not answer leaves no trace in the cache.
    fs.mkdirSync(dir, { recursive: true });
    await failpoint('remote-index.after-list');
    const sizes = new Map(listing.map((o) => [o.key, o.size]));
    // Consolidated indexes first: each pack they hold needs no request of its own.
    const copies = new Map<string, PackTable>();
    const newHasher = await loadHasher();
    await forEachLimited(consolidatedIndexes(consolidatedListing.map((o) => o.key)), jobs, async (hex) => {
      let tables: PackTable[];
      try {
        tables = await readConsolidated(remote, dir, hex, newHasher);
      } catch (err) {
        if (!(err instanceof MlxError) || !UNUSABLE_INDEX.has(err.code)) throw err;
        // Retired since the listing (a larger one holds its packs), or damaged: either way each of its
        // packs is still published by its own index, which is read instead.
        if (err.code !== E.REMOTE_NOT_FOUND) this.warnings.push(`ignored ${consolidatedKey(hex)}: ${err.message}`);
        return;
      }
      for (const table of tables) copies.set(table.hex, table);
      this.consolidated.set(hex, tables.map((t) => t.hex));
    });
    await forEachLimited(publishedPacks(listing.map((o) => o.key)), jobs, async (hex) => {
      let index = copies.get(hex);
      if (index === undefined) {
        try {
          index = PackTable.from(await readIndex(remote, dir, hex, legacyIndexKey));
        } catch (err) {
          // Only a damaged or vanished index is passed over; a failed download (network, credentials)
          // says nothing about the remote's data and ends the command, or its objects would be
          // reported as never pushed.
          if (!(err instanceof MlxError) || !UNUSABLE_INDEX.has(err.code)) throw err;
          this.warnings.push(`ignored ${legacyIndexKey(oidFromHex(hex))}: ${err.message}`);
          return;
        }
      }
      // An index whose pack is gone or damaged names nothing usable: its objects count as absent,
      // so the next push sends them again and repairs the remote.
      const packSize = sizes.get(packKey(oidFromHex(hex)));
      if (packSize !== index.size) {
        this.warnings.push(`ignored pack ${hex.slice(0, 12)}: ${packSize === undefined ? 'its pack file is missing' : `its pack has ${packSize} bytes, the index says ${index.size}`}`);
        return;
      }
      this.addPack(hex, index);
    });
    for (const bad of damagedCopies(listing.map((o) => o.key))) {
      this.legacyDamaged.push(bad);
      this.avoid(bad.packHex, bad.oid);
    }
  }

  /**
   * Lists `packs/` (which a load of layout 3 does not) and stops answering from packs whose file is
   * missing or not the size their index says: their objects count as absent, so a push sends them
   * again (`push --repair`). Returns those packs.
   */
  async forgetMissingPackFiles(): Promise<string[]> {
    const sizes = new Map((await this.remote.list(PACKS_PREFIX)).map((o) => [o.key, o.size]));
    const missing = [...this.packs].filter(([hex, table]) => sizes.get(packKey(oidFromHex(hex))) !== table.size).map(([hex]) => hex);
    for (const hex of missing) this.warnings.push(`pack ${hex.slice(0, 12)} is published but its pack file is ${sizes.has(packKey(oidFromHex(hex))) ? 'not the size its index says' : 'missing'}: its objects are sent again`);
    this.forget(new Set(missing));
    return missing;
  }

  /** Whether a push may publish a pack of this name: not when a removal record names it. */
  isGone(hex: string): boolean {
    return this.gone.has(hex);
  }

  /** Packs found removed while this process ran: their objects count as absent, and their names are not published again. */
  markGone(packs: Iterable<string>): void {
    const set = new Set(packs);
    for (const hex of set) this.gone.add(hex);
    this.forget(set);
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

