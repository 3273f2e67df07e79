import { OID_ALGO, oidFromHex, oidHex, type Oid } from '../hash/oid.js';
import type { PackCodec, PackEntry, PackIndex, PackMemberType } from '../formats/pack-index.js';

/*
 * What a remote index holds of each pack, compact: at a million objects one object per entry, with its
 * oid as a 67-character string, cost a push several hundred bytes per object. Here an entry is its oid's
 * 32 bytes in one buffer, its numbers in one typed array and its type and codec in one byte (73 bytes),
 * and entries are made into objects only when asked for.
 */

/** Bytes of an oid's digest. */
export const OID_BYTES = 32;
/** Numbers kept per entry: off, len, raw, at, of (-1 when an entry is not batched). */
const FIELDS = 5;
const RECIPE = 1;
const ZSTD = 2;

/**
 * Writes the digest `oid` names into `into` at `at`; false when `oid` is not an object id (then what
 * was written is garbage). Decoded here, a digit at a time: called once per object and lookup, where
 * the checks of `isOid` and a native hex decode cost twice as much.
 */
export function writeOidBytes(oid: string, into: Buffer, at = 0): boolean {
  if (oid.length !== 67 || !oid.startsWith(OID_PREFIX)) return false;
  for (let i = 0; i < OID_BYTES; i++) {
    const hi = hexValue(oid.charCodeAt(3 + 2 * i));
    const lo = hexValue(oid.charCodeAt(4 + 2 * i));
    if ((hi | lo) < 0) return false;
    into[at + i] = (hi << 4) | lo;
  }
  return true;
}

const OID_PREFIX = `${OID_ALGO}:`;

/** The value of a lowercase hex digit, or -1. */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/** One pack index, compact. Structurally a {@link PackIndex}: `entries` makes the entry objects on each call. */
export class PackTable {
  readonly count: number;
  /** The pack's oid as 64 hex digits. */
  readonly hex: string;

  private constructor(
    readonly v: 1 | 2,
    readonly pack: Oid,
    readonly size: number,
    /** The entries' digests, back to back, in entry order. */
    readonly digests: Buffer,
    private readonly nums: Float64Array,
    private readonly kinds: Uint8Array,
  ) {
    this.count = kinds.length;
    this.hex = oidHex(pack);
  }

  static from(index: PackIndex): PackTable {
    const n = index.entries.length;
    const digests = Buffer.allocUnsafe(n * OID_BYTES);
    const nums = new Float64Array(n * FIELDS);
    const kinds = new Uint8Array(n);
    index.entries.forEach((e, i) => {
      if (!writeOidBytes(e.o, digests, i * OID_BYTES)) throw new Error(`internal: pack entry ${e.o} is not an object id`);
      const f = i * FIELDS;
      nums[f] = e.off;
      nums[f + 1] = e.len;
      nums[f + 2] = e.raw;
      nums[f + 3] = e.at ?? -1;
      nums[f + 4] = e.of ?? -1;
      kinds[i] = (e.t === 'r' ? RECIPE : 0) | (e.c === 'zstd' ? ZSTD : 0);
    });
    return new PackTable(index.v, index.pack, index.size, digests, nums, kinds);
  }

  oidAt(row: number): Oid {
    return oidFromHex(this.digests.toString('hex', row * OID_BYTES, (row + 1) * OID_BYTES));
  }

  /** Where the member of `row` starts in its pack. */
  offsetAt(row: number): number {
    return this.nums[row * FIELDS]!;
  }

  typeAt(row: number): PackMemberType {
    return this.kinds[row]! & RECIPE ? 'r' : 'b';
  }

  /** The entry of `row` as an object; `oid` spares decoding its name when the caller has it. */
  entryAt(row: number, oid: Oid = this.oidAt(row)): PackEntry {
    const f = row * FIELDS;
    const nums = this.nums;
    const c: PackCodec = this.kinds[row]! & ZSTD ? 'zstd' : 'none';
    const entry: PackEntry = { o: oid, t: this.typeAt(row), off: nums[f]!, len: nums[f + 1]!, raw: nums[f + 2]!, c };
    if (nums[f + 3]! >= 0) Object.assign(entry, { at: nums[f + 3]!, of: nums[f + 4]! });
    return entry;
  }

  /** Every entry as an object (made anew on each call: for one pack at a time). */
  get entries(): PackEntry[] {
    return Array.from({ length: this.count }, (_, row) => this.entryAt(row));
  }
}

/** Where one copy of an object is: a pack's number in the index that holds it, and the row in that pack. */
export interface TableRow {
  no: number;
  row: number;
}

/**
 * Finds the row of an oid among many tables of digests (packs): an open-addressing hash table (linear
 * probing, at most half full) of (table number, row) pairs, 8 bytes a slot. The key is the digest that row holds.
 */
export class DigestSlots {
  private nos = new Uint32Array(1 << 10);
  private rows = new Uint32Array(1 << 10);
  private used = 0;

  /** @param tables where the digests are (packs by number, as the caller numbers them): read, never changed, here */
  constructor(private readonly tables: readonly { readonly digests: Buffer }[]) {}

  get size(): number {
    return this.used;
  }

  /** The row holding the digest at `key[at..at+32)`, or undefined. */
  get(key: Buffer, at = 0): TableRow | undefined {
    const slot = this.find(key, at);
    return this.nos[slot] === 0 ? undefined : { no: this.nos[slot]! - 1, row: this.rows[slot]! };
  }

  /** Makes `row` the one found for its digest (adding or replacing). */
  set({ no, row }: TableRow): void {
    const table = this.tables[no]!;
    const slot = this.find(table.digests, row * OID_BYTES);
    if (this.nos[slot] === 0) {
      if (2 * (this.used + 1) > this.nos.length) {
        this.grow();
        return this.set({ no, row });
      }
      this.used++;
    }
    this.nos[slot] = no + 1;
    this.rows[slot] = row;
  }

  /** Forgets the digest at `key[at..at+32)`. */
  delete(key: Buffer, at = 0): void {
    let hole = this.find(key, at);
    if (this.nos[hole] === 0) return;
    this.used--;
    const mask = this.nos.length - 1;
    // Backward shift: a later slot of the same probe run moves into the hole, so that no lookup
    // stops early at it. A slot moves when its home is not between the hole and itself.
    for (let next = (hole + 1) & mask; this.nos[next] !== 0; next = (next + 1) & mask) {
      const home = this.homeOf(this.nos[next]! - 1, this.rows[next]!);
      const stays = hole <= next ? hole < home && home <= next : hole < home || home <= next;
      if (stays) continue;
      this.nos[hole] = this.nos[next]!;
      this.rows[hole] = this.rows[next]!;
      hole = next;
    }
    this.nos[hole] = 0;
  }

  clear(): void {
    this.nos = new Uint32Array(1 << 10);
    this.rows = new Uint32Array(1 << 10);
    this.used = 0;
  }

  /** The slot holding the digest, or the empty slot where it would go. */
  private find(key: Buffer, at: number): number {
    const mask = this.nos.length - 1;
    for (let slot = hashOf(key, at) & mask; ; slot = (slot + 1) & mask) {
      const no = this.nos[slot]!;
      if (no === 0) return slot;
      if (sameDigest(key, at, this.tables[no - 1]!.digests, this.rows[slot]! * OID_BYTES)) return slot;
    }
  }

  private homeOf(no: number, row: number): number {
    return hashOf(this.tables[no]!.digests, row * OID_BYTES) & (this.nos.length - 1);
  }

  private grow(): void {
    const [nos, rows] = [this.nos, this.rows];
    this.nos = new Uint32Array(nos.length * 2);
    this.rows = new Uint32Array(nos.length * 2);
    this.used = 0;
    for (let slot = 0; slot < nos.length; slot++) if (nos[slot] !== 0) this.set({ no: nos[slot]! - 1, row: rows[slot]! });
  }
}

/** Compared a word at a time in JavaScript: a native compare costs more to call than to run. */
function sameDigest(a: Buffer, aAt: number, b: Buffer, bAt: number): boolean {
  for (let i = 0; i < OID_BYTES; i += 4) if (a.readInt32LE(aAt + i) !== b.readInt32LE(bAt + i)) return false;
  return true;
}

/** A digest is random, but made-up ones in tests differ only in their last bytes: every word counts. */
function hashOf(key: Buffer, at: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < OID_BYTES; i += 4) h = Math.imul(h ^ key.readUInt32LE(at + i), 0x01000193);
  // The final mix of MurmurHash3: every input bit reaches the low bits the table size keeps.
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
