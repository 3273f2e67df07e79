import { assertOid, oidFromHex, type Oid } from '../hash/oid.js';
import { DigestSlots, OID_BYTES, writeOidBytes } from './pack-table.js';

/**
 * The objects a push sends, each once, with the sizes their pointers and manifests record: 32 bytes
 * of digest and 8 of size per object in two growing arrays, and 8 to 16 of hash slots, where a list
 * of oid strings, a set to drop repeats and a map of sizes cost some 250 bytes an object.
 */
export class OidList {
  private bytes = Buffer.allocUnsafe(OID_BYTES * 1024);
  private sizes = new Float64Array(1024);
  /** 1 where the caller vouched that the object is in the local cache (see `add`). */
  private inCache = new Uint8Array(1024);
  private count = 0;
  private readonly slots = new DigestSlots([this]);
  private readonly key = Buffer.alloc(OID_BYTES);

  static of(oids: Iterable<Oid>, sizes?: ReadonlyMap<Oid, number>): OidList {
    const list = new OidList();
    for (const oid of oids) list.add(oid, sizes?.get(oid));
    return list;
  }

  /** The digests, back to back in the order added (the slots read them from here). */
  get digests(): Buffer {
    return this.bytes;
  }

  get length(): number {
    return this.count;
  }

  /**
   * Adds `oid` unless it is there; a size, when given, is recorded (a later one replaces an earlier).
   * `inCache`: the caller knows the object is in the local cache (a stat-checked record says so), so
   * a push need not look for it before reading it.
   */
  add(oid: Oid, size?: number, inCache = false): void {
    writeOidBytes(assertOid(oid), this.key);
    const there = this.slots.get(this.key);
    if (there) {
      if (size !== undefined) this.sizes[there.row] = size;
      if (inCache) this.inCache[there.row] = 1;
      return;
    }
    if (this.count === this.sizes.length) this.grow();
    this.key.copy(this.bytes, this.count * OID_BYTES);
    this.sizes[this.count] = size ?? -1;
    this.inCache[this.count] = inCache ? 1 : 0;
    this.slots.set({ no: 0, row: this.count++ });
  }

  /** Whether the object at `i` was added as known to be in the local cache. */
  knownInCacheAt(i: number): boolean {
    return this.inCache[i] === 1;
  }

  has(oid: Oid): boolean {
    return writeOidBytes(oid, this.key) && this.slots.get(this.key) !== undefined;
  }

  /** The oid at `i` (made on each call). */
  oidAt(i: number): Oid {
    return oidFromHex(this.bytes.toString('hex', i * OID_BYTES, (i + 1) * OID_BYTES));
  }

  /** The recorded size of the object at `i`, if one was. */
  sizeAt(i: number): number | undefined {
    const size = this.sizes[i]!;
    return size < 0 ? undefined : size;
  }

  /** The first byte of the digest at `i`: what the cache folders are named by. */
  fanAt(i: number): number {
    return this.bytes[i * OID_BYTES]!;
  }

  /** The oids in order, each made as it is taken. */
  *[Symbol.iterator](): Generator<Oid> {
    for (let i = 0; i < this.count; i++) yield this.oidAt(i);
  }

  private grow(): void {
    const bytes = Buffer.allocUnsafe(this.bytes.length * 2);
    this.bytes.copy(bytes, 0, 0, this.count * OID_BYTES);
    this.bytes = bytes;
    const sizes = new Float64Array(this.sizes.length * 2);
    sizes.set(this.sizes);
    this.sizes = sizes;
    const inCache = new Uint8Array(this.inCache.length * 2);
    inCache.set(this.inCache);
    this.inCache = inCache;
  }
}
