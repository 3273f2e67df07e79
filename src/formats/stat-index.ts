import crypto from 'node:crypto';
import { isOid, type Oid } from '../hash/oid.js';
import { compareWithJoined } from '../util/bytes.js';

export const STAT_INDEX_VERSION = 3;

/**
 * What the stat index remembers of one work-tree file: the stat fields that change when the file
 * changes, the oid its content had, and when that content was hashed (see isTrusted for why).
 */
export interface StatEntry {
  size: number;
  mtimeMs: number;
  /** ctime changes on every write and cannot be set back by `touch`, unlike mtime. */
  ctimeMs: number;
  ino: number;
  oid: Oid;
  hashedAt: number;
}

/** The stat fields a lookup compares. */
export interface StatFields {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

// Layout (spec/workspace.md): "MLXSTAT\0", u32 version, records sorted by the UTF-8 bytes of their
// paths, u32 count, then a SHA-256 of everything before it. A record: u16 path length, path, five f64
// (size, mtimeMs, ctimeMs, ino, hashedAt), u8 oid length, oid (ASCII). The count and checksum come
// last so the file can be written as it is made.
const MAGIC = Buffer.from('MLXSTAT\0', 'latin1');
const HEADER = MAGIC.length + 4;
const CHECKSUM = 32;
const TRAILER = 4 + CHECKSUM;
const FIXED = 5 * 8 + 1;
export const MAX_PATH = 0xffff;

/** Bytes one record takes: `pathBytes` of path and an oid of `oidLength` characters. */
export function recordLength(pathBytes: number, oidLength: number): number {
  return 2 + pathBytes + FIXED + oidLength;
}

/**
 * Writes one record at `at` in `b` (room for {@link recordLength} bytes is the caller's) and returns
 * where it ends. A null entry writes a removal (zero fields, no oid), which only the change log has.
 */
export function writeRecord(b: Buffer, at: number, path: string, plen: number, e: StatEntry | null): number {
  at = b.writeUInt16LE(plen, at);
  at += b.write(path, at, 'utf8');
  at = b.writeDoubleLE(e?.size ?? 0, at);
  at = b.writeDoubleLE(e?.mtimeMs ?? 0, at);
  at = b.writeDoubleLE(e?.ctimeMs ?? 0, at);
  at = b.writeDoubleLE(e?.ino ?? 0, at);
  at = b.writeDoubleLE(e?.hashedAt ?? 0, at);
  const oid = e?.oid ?? '';
  at = b.writeUInt8(oid.length, at);
  return at + b.write(oid, at, 'latin1');
}

/**
 * Reads the record at `at` in `b`, no further than `end`: its path and entry (null for a removal), and
 * where it ends; undefined when it runs past `end`.
 */
export function readRecord(b: Buffer, at: number, end: number): { path: string; entry: StatEntry | null; next: number } | undefined {
  if (at + 2 > end) return undefined;
  const plen = b.readUInt16LE(at);
  const f = at + 2 + plen;
  if (f + FIXED > end) return undefined;
  const olen = b[f + FIXED - 1]!;
  const next = f + FIXED + olen;
  if (next > end) return undefined;
  const path = b.toString('utf8', at + 2, f);
  if (olen === 0) return { path, entry: null, next };
  const oid = b.toString('latin1', f + FIXED, next);
  const entry = { size: b.readDoubleLE(f), mtimeMs: b.readDoubleLE(f + 8), ctimeMs: b.readDoubleLE(f + 16), ino: b.readDoubleLE(f + 24), hashedAt: b.readDoubleLE(f + 32), oid };
  return { path, entry, next };
}

/**
 * A read-only view of a stat index file: records stay in the file's bytes and are read in place, so
 * loading costs one pass over offsets rather than an object per file. Lookups that come in path order
 * (as a directory walk makes them) cost one comparison each.
 */
export class StatTable {
  private scratch = Buffer.alloc(256);
  /** Where the next in-order lookup is likely to be found. */
  private next = 0;
  /** The stat fields are read through a view: faster than Buffer.readDoubleLE where every file is looked up. */
  private readonly view: DataView;

  private constructor(
    private readonly buf: Buffer,
    /** Byte offset of each record. */
    private readonly offsets: Uint32Array,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  static readonly empty = new StatTable(Buffer.alloc(0), new Uint32Array(0));

  /**
   * The table in `bytes`. The index is a cache of derivable facts: a file that is damaged, of another
   * version or not sorted is read as empty (its files are hashed again), never trusted.
   */
  static parse(bytes: Buffer | undefined): StatTable {
    return StatTable.read(bytes).table;
  }

  /**
   * As {@link parse}, saying why a file that is there was not used: `damage` when it is not a stat
   * index any more (cut short, bytes changed, out of order), which its reader reports once; an index
   * of another version is no damage (an upgrade rebuilds it quietly).
   */
  static read(bytes: Buffer | undefined): { table: StatTable; damage?: string } {
    const refused = (damage?: string) => ({ table: StatTable.empty, damage });
    if (!bytes) return refused();
    if (bytes.length < HEADER + TRAILER || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return refused('not a stat index');
    if (bytes.readUInt32LE(MAGIC.length) !== STAT_INDEX_VERSION) return refused();
    const checked = bytes.length - CHECKSUM;
    if (!crypto.createHash('sha256').update(bytes.subarray(0, checked)).digest().equals(bytes.subarray(checked))) return refused('checksum mismatch');
    const body = bytes.length - TRAILER;
    const count = bytes.readUInt32LE(body);
    const offsets = new Uint32Array(count);
    let at = HEADER;
    let prevStart = -1;
    let prevEnd = -1;
    for (let i = 0; i < count; i++) {
      if (at + 2 > body) return refused('records cut short');
      const plen = bytes[at]! | (bytes[at + 1]! << 8);
      const pathStart = at + 2;
      const oidLenAt = pathStart + plen + FIXED - 1;
      if (oidLenAt + 1 > body) return refused('records cut short');
      const end = oidLenAt + 1 + bytes[oidLenAt]!;
      if (end > body) return refused('records cut short');
      // Strictly increasing paths: what makes binary search and merging on save correct.
      if (prevStart >= 0 && !pathsIncrease(bytes, prevStart, prevEnd, pathStart, pathStart + plen)) return refused('paths out of order');
      offsets[i] = at;
      prevStart = pathStart;
      prevEnd = pathStart + plen;
      at = end;
    }
    if (at !== body) return refused('records and count disagree');
    return { table: new StatTable(bytes, offsets) };
  }

  get count(): number {
    return this.offsets.length;
  }

  /** The file's checksum, which names this exact file (a change log names the index it extends by it); undefined for an empty table. */
  get identity(): Buffer | undefined {
    return this.buf.length === 0 ? undefined : this.buf.subarray(this.buf.length - CHECKSUM);
  }

  /** The record number of `path`, or -1. */
  find(path: string): number {
    const len = this.encode(path);
    const n = this.offsets.length;
    const hint = this.next;
    if (hint < n && this.comparePath(hint, len) === 0) return this.hit(hint);
    let lo = 0;
    let hi = n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.comparePath(mid, len);
      if (c === 0) return this.hit(mid);
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** The first record from `from` on whose path is not before `path` (records from there on sort at or after it). */
  lowerBound(path: string, from = 0): number {
    const len = this.encode(path);
    let lo = from;
    let hi = this.offsets.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.comparePath(mid, len) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Compares record `i`'s path with `path` by UTF-8 bytes (the file's order). */
  compareWith(i: number, path: string): number {
    return this.comparePath(i, this.encode(path));
  }

  /** Compares record `i`'s path with `prefix` followed by bytes `start`..`end` of `other`, in place. */
  compareJoined(i: number, prefix: Uint8Array, other: Uint8Array, start: number, end: number): number {
    const at = this.offsets[i]!;
    const plen = this.buf[at]! | (this.buf[at + 1]! << 8);
    return compareWithJoined(this.buf, at + 2, at + 2 + plen, prefix, other, start, end);
  }

  pathAt(i: number): string {
    const at = this.offsets[i]!;
    return this.buf.toString('utf8', at + 2, at + 2 + this.buf.readUInt16LE(at));
  }

  /** Whether record `i` was taken with exactly this stat. Reads the bytes in place. */
  sameStat(i: number, st: StatFields): boolean {
    const f = this.fieldsAt(i);
    const v = this.view;
    return v.getFloat64(f, true) === st.size && v.getFloat64(f + 8, true) === st.mtimeMs && v.getFloat64(f + 16, true) === st.ctimeMs && v.getFloat64(f + 24, true) === st.ino;
  }

  mtimeAt(i: number): number {
    return this.view.getFloat64(this.fieldsAt(i) + 8, true);
  }

  hashedAtAt(i: number): number {
    return this.view.getFloat64(this.fieldsAt(i) + 32, true);
  }

  /** Record `i`'s oid; undefined if its bytes do not make one (the record is then never trusted). */
  oidAt(i: number): Oid | undefined {
    const at = this.fieldsAt(i) + FIXED - 1;
    const oid = this.buf.toString('latin1', at + 1, at + 1 + this.buf[at]!);
    return isOid(oid) ? oid : undefined;
  }

  /** Whether record `i`'s oid is `oid`, compared in place. */
  oidEquals(i: number, oid: Oid): boolean {
    const at = this.fieldsAt(i) + FIXED - 1;
    const b = this.buf;
    if (b[at] !== oid.length) return false;
    for (let k = 0; k < oid.length; k++) if (b[at + 1 + k] !== oid.charCodeAt(k)) return false;
    return true;
  }

  /** Whether record `i`'s oid is the ASCII bytes `start`..`end` of `other`, compared in place. */
  oidIsBytes(i: number, other: Uint8Array, start: number, end: number): boolean {
    const at = this.fieldsAt(i) + FIXED - 1;
    const b = this.buf;
    const n = end - start;
    if (b[at] !== n) return false;
    for (let k = 0; k < n; k++) if (b[at + 1 + k] !== other[start + k]) return false;
    return true;
  }

  entryAt(i: number): StatEntry | undefined {
    const oid = this.oidAt(i);
    if (!oid) return undefined;
    const f = this.fieldsAt(i);
    const b = this.buf;
    return { size: b.readDoubleLE(f), mtimeMs: b.readDoubleLE(f + 8), ctimeMs: b.readDoubleLE(f + 16), ino: b.readDoubleLE(f + 24), hashedAt: b.readDoubleLE(f + 32), oid };
  }

  /** The raw bytes of records `from` to `to` (exclusive), copied as they are when the index is written again. */
  recordsBytes(from: number, to: number): Buffer {
    if (from >= to) return this.buf.subarray(0, 0);
    const end = to < this.offsets.length ? this.offsets[to]! : this.buf.length - TRAILER;
    return this.buf.subarray(this.offsets[from]!, end);
  }

  private hit(i: number): number {
    this.next = i + 1;
    return i;
  }

  private fieldsAt(i: number): number {
    const at = this.offsets[i]!;
    return at + 2 + (this.buf[at]! | (this.buf[at + 1]! << 8));
  }

  private encode(path: string): number {
    if (this.scratch.length < path.length * 3) this.scratch = Buffer.alloc(path.length * 3);
    return this.scratch.write(path, 0, 'utf8');
  }

  /** Record `i`'s path against the encoded key, byte by byte (paths are short: a loop beats Buffer.compare's checks). */
  private comparePath(i: number, len: number): number {
    const b = this.buf;
    const k = this.scratch;
    const at = this.offsets[i]!;
    const plen = b[at]! | (b[at + 1]! << 8);
    const n = plen < len ? plen : len;
    for (let j = 0; j < n; j++) {
      const d = b[at + 2 + j]! - k[j]!;
      if (d !== 0) return d;
    }
    return plen - len;
  }
}

/** Whether path bytes a..aEnd sort strictly before b..bEnd (two paths of one buffer; a loop the engine inlines, run once per record on load). */
function pathsIncrease(buf: Buffer, a: number, aEnd: number, b: number, bEnd: number): boolean {
  const aLen = aEnd - a;
  const bLen = bEnd - b;
  const n = aLen < bLen ? aLen : bLen;
  for (let k = 0; k < n; k++) {
    const d = buf[a + k]! - buf[b + k]!;
    if (d !== 0) return d < 0;
  }
  return aLen < bLen;
}

/**
 * Writes stat index records in path order, copying unchanged ones as raw bytes, to `out` a block at a
 * time: a million records never stand twice in memory.
 */
export class StatIndexWriter {
  private readonly hash = crypto.createHash('sha256');
  private block = Buffer.alloc(1 << 20);
  private used = 0;
  private count = 0;

  constructor(private readonly out: (data: Uint8Array) => void) {
    const header = Buffer.alloc(HEADER);
    MAGIC.copy(header);
    header.writeUInt32LE(STAT_INDEX_VERSION, MAGIC.length);
    this.emit(header);
  }

  /** Appends a record; the caller keeps paths strictly increasing. Paths too long to store are left out. */
  add(path: string, e: StatEntry): void {
    const plen = Buffer.byteLength(path, 'utf8');
    if (plen > MAX_PATH) return; // such a file is simply hashed every time
    const b = this.room(recordLength(plen, e.oid.length));
    this.used = writeRecord(b, this.used, path, plen, e);
    this.count++;
  }

  /**
   * Appends `count` records exactly as an earlier index held them. A long run of unchanged records
   * (most of the index when a few files changed) goes out as it is, not copied record by record.
   */
  addRaw(bytes: Buffer, count = 1): void {
    this.count += count;
    if (bytes.length >= this.block.length) {
      this.flush();
      this.emit(bytes);
      return;
    }
    const b = this.room(bytes.length);
    bytes.copy(b, this.used);
    this.used += bytes.length;
  }

  finish(): void {
    this.flush();
    const count = Buffer.alloc(4);
    count.writeUInt32LE(this.count);
    this.emit(count);
    this.out(this.hash.digest());
  }

  private emit(data: Buffer): void {
    this.hash.update(data);
    this.out(data);
  }

  private room(need: number): Buffer {
    if (this.used + need > this.block.length) {
      this.flush();
      if (need > this.block.length) this.block = Buffer.alloc(need);
    }
    return this.block;
  }

  private flush(): void {
    if (this.used > 0) this.emit(this.block.subarray(0, this.used));
    this.used = 0;
  }
}

/** A whole stat index file from records in path order (for tests and small indexes). */
export function statIndexBytes(rows: Iterable<[string, StatEntry]>): Buffer {
  const parts: Buffer[] = [];
  const w = new StatIndexWriter((d) => parts.push(Buffer.from(d)));
  for (const [p, e] of rows) w.add(p, e);
  w.finish();
  return Buffer.concat(parts);
}
