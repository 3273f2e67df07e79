import type { Hasher, HasherFactory } from '../hash/blake3.js';
import { oidOfPieces } from '../hash/blake3-shared.js';
import { hashBytes } from '../hash/hash-file.js';
import { assertOid, oidFromHex, oidHex, type Oid } from '../hash/oid.js';
import {
  packIndexVersion,
  paddedLength,
  TAR_BLOCK,
  TAR_TRAILER,
  type PackCodec,
  type PackEntry,
  type PackIndex,
  type PackMemberType,
} from '../formats/pack-index.js';
import { MlxError, badState, objectCorrupt } from '../util/errors.js';
import { readZstdFrame } from '../formats/zstd-frame.js';
import { copyInto } from '../util/aligned-memory.js';
import { looksIncompressible } from './compressibility.js';
import { loadZstd, zstdBound } from './zstd.js';

/*
 * A pack is a plain POSIX ustar stream, so `tar tf` lists it and `tar x` + `zstd -d` recover its objects
 * without mlx (a batch of small objects, below, needs the index to be split). Each member is one object:
 *   name   `<t>/<64 hex of the oid>` plus `.zst` when the data is a zstd frame; `t` is `b` (blob) or
 *          `r` (recipe of the file whose oid it is). The name repeats what the index says, so an index
 *          can be rebuilt from its pack alone (but for batches, below).
 *   data   one zstd frame (with its content size) of the object, or the raw bytes when zstd would save
 *          less than `minSavings` (incompressible data: weights, images, already compressed files).
 * Objects under {@link BATCH_OBJECT_MAX} bytes are batched instead: several go into one member named
 * `s/<64 hex of its first oid>` (plus `.zst`), their bytes back to back, and each one's index entry
 * names that member plus its place in the decoded bytes (`at`, and `of` the decoded size). A 512-byte
 * header and padding per 200-byte file would make a pack five times its data; one ranged read of the
 * member still fetches the object.
 * Headers are deterministic (mode 0444, uid/gid/mtime 0, no user names, no PAX records): equal members
 * in equal order give byte-identical packs and so equal pack ids. Member data starts on a 512-byte
 * boundary right after its header; the index records that offset so one ranged GET fetches one object.
 * The pack id is the BLAKE3 oid of the whole pack.
 */

/** Options for {@link PackWriter}. */
export interface PackWriterOptions {
  /** zstd level (default 3). Level 1 is as good on typical CSV and faster. */
  level?: number;
  /** Store raw unless zstd saves at least this fraction of the size (default 0.05). */
  minSavings?: number;
  /** Hash each blob before packing it and refuse a mismatch (default true): never upload a wrong name. */
  verify?: boolean;
  /**
   * Memory to build the pack in, e.g. the `storage` of a finished writer whose pack is no longer
   * needed. Reusing it spares the page faults of a fresh buffer per pack, which cost more than
   * the copying itself. Outgrown buffers are replaced by larger ones.
   */
  buffer?: Buffer;
  /**
   * Hash the pack id once, at the end, instead of member by member (default false): for a caller that
   * finishes with {@link PackWriter.finishPiecesHashedApart}, which hashes a pack in shared memory on
   * another thread.
   */
  hashAtFinish?: boolean;
  /**
   * Writes an empty first member `n/<salt>` that no index lists, so the pack's name differs from that
   * of a pack of the same objects: a push re-sending the objects of a removed pack must not publish
   * the removed pack's name (spec/remote.md, "Removal records").
   */
  salt?: string;
}

/** Objects smaller than this are batched with others into one member. */
export const BATCH_OBJECT_MAX = 1024;
/** A batch is sealed once its objects add up to this many bytes: one ranged read per object stays small. */
const BATCH_TARGET = 16 * 1024;

/** Largest member data a ustar header can describe (11 octal digits). */
const MAX_MEMBER = 8 ** 11 - 1;

/** Bytes a pack buffer needs beyond its target: one largest member (header, worst-case frame, padding) and the trailer. */
export function packHeadroom(largestMember: number): number {
  return TAR_BLOCK + zstdBound(largestMember) + TAR_BLOCK + TAR_TRAILER;
}

/**
 * Builds one pack in one buffer: each member's header and data are written in place (zstd compresses
 * straight into the pack), so adding an object allocates nothing. Add objects, then `finish` once.
 */
export class PackWriter {
  private readonly newHasher: HasherFactory;
  private readonly minSavings: number;
  private readonly verify: boolean;
  private readonly level: number;
  private buf: Buffer;
  private readonly entries = new Map<Oid, PackEntry>();
  /** Small objects waiting for their batch to be written, and their bytes (copied) back to back. */
  private readonly batch: { oid: Oid; type: PackMemberType; at: number; raw: number }[] = [];
  private readonly batched = new Map<Oid, PackMemberType>();
  private readonly batchBytes = Buffer.allocUnsafe(BATCH_TARGET + BATCH_OBJECT_MAX);
  private batchSize = 0;
  /** Bytes of the pack so far (its members' headers, data and padding). */
  private offset = 0;
  /** Bytes written into `buf`: all of the pack but the data of members added by reference. */
  private used = 0;
  /** The pack so far, in order: ranges of `buf` and the bytes of members added by reference. */
  private readonly pieces: Buffer[] = [];
  /** Where in `buf` the range not yet in `pieces` starts. */
  private sealed = 0;
  /**
   * The pack id, hashed as the pack is written: each member's bytes are hashed right after they were
   * copied, compressed or (a chunk) hashed on their own, while they are still in this core's cache.
   */
  private packHasher: Hasher | undefined;
  private readonly hashAtFinish: boolean;
  private finished = false;

  constructor(newHasher: HasherFactory, opts: PackWriterOptions = {}) {
    this.newHasher = newHasher;
    this.minSavings = opts.minSavings ?? 0.05;
    this.verify = opts.verify ?? true;
    this.level = opts.level ?? 3;
    this.buf = opts.buffer ?? Buffer.allocUnsafe(1 << 20);
    this.hashAtFinish = opts.hashAtFinish ?? false;
    if (opts.salt !== undefined) this.writeMember(`n/${opts.salt}`, new Uint8Array(0), false);
  }

  /**
   * Adds one object: `b` a blob whose bytes hash to `oid`, `r` the recipe of the file `oid`. Adding an
   * oid that is already in the pack does nothing. `bytes` is copied or compressed into the pack before
   * this returns, so the caller may reuse its buffer; unless `byReference` is set, when the caller
   * keeps them unchanged until the pack is sent: a member stored raw is then not copied, and the pack
   * ({@link finishPieces}) sends those very bytes.
   */
  add(oid: Oid, type: PackMemberType, bytes: Uint8Array, { byReference = false }: { byReference?: boolean } = {}): void {
    if (this.finished) throw badState('internal: PackWriter.add after finish');
    assertOid(oid);
    const existing = this.entries.get(oid)?.t ?? this.batched.get(oid);
    if (existing) {
      if (existing !== type) throw badState(`internal: ${oid} added to one pack as both blob and recipe`);
      return;
    }
    if (type === 'b' && this.verify) verifyMember(this.newHasher, oid, bytes);
    if (bytes.length > MAX_MEMBER) throw badState(`internal: object ${oid} of ${bytes.length} bytes is too large for a pack`);
    if (bytes.length < BATCH_OBJECT_MAX) {
      this.batchBytes.set(bytes, this.batchSize);
      this.batch.push({ oid, type, at: this.batchSize, raw: bytes.length });
      this.batched.set(oid, type);
      this.batchSize += bytes.length;
      if (this.batchSize >= BATCH_TARGET) this.writeBatch();
      return;
    }
    const { len, codec } = this.writeMember(`${type}/${oidHex(oid)}`, bytes, byReference);
    this.entries.set(oid, { o: oid, t: type, off: this.offset - paddedLength(len), len, raw: bytes.length, c: codec });
  }

  /**
   * Writes the batched objects as one member (a batch of one is a plain member: no `at`). Each is
   * looked up by its own oid, so the bytes of a batch are only ever read through the index.
   */
  private writeBatch(): void {
    if (this.batch.length === 0) return;
    const data = this.batchBytes.subarray(0, this.batchSize);
    const first = this.batch[0]!;
    const single = this.batch.length === 1;
    const { len, codec } = this.writeMember(single ? `${first.type}/${oidHex(first.oid)}` : `s/${oidHex(first.oid)}`, data, false);
    const off = this.offset - paddedLength(len);
    for (const b of this.batch) {
      const entry: PackEntry = { o: b.oid, t: b.type, off, len, raw: b.raw, c: codec };
      if (!single) Object.assign(entry, { at: b.at, of: data.length });
      this.entries.set(b.oid, entry);
    }
    this.batch.length = 0;
    this.batched.clear();
    this.batchSize = 0;
  }

  /**
   * Writes one member (header, data compressed when that pays, padding) at the end; returns its data
   * length and codec. Raw data `byReference` becomes a piece of its own instead of a copy.
   */
  private writeMember(name: string, bytes: Uint8Array, byReference: boolean): { len: number; codec: PackCodec } {
    this.reserve(this.used + TAR_BLOCK + zstdBound(bytes.length) + TAR_BLOCK + TAR_TRAILER);
    const header = this.used;
    const off = header + TAR_BLOCK;
    // Compress into place; when that does not save enough, the raw bytes overwrite the attempt. Bytes
    // that look incompressible are not even tried.
    const tried = !looksIncompressible(bytes);
    let len = tried ? loadZstd().compressInto(this.buf.subarray(off), bytes, this.level) : bytes.length;
    const useZstd = tried && len <= bytes.length * (1 - this.minSavings);
    if (!useZstd) len = bytes.length;
    writeTarHeader(this.buf, header, `${name}${useZstd ? '.zst' : ''}`, len);
    const padding = paddedLength(len) - len;
    if (!useZstd && byReference) {
      this.pieces.push(this.buf.subarray(this.sealed, off), asBuffer(bytes));
      this.sealed = off;
      this.buf.fill(0, off, off + padding);
      this.used = off + padding;
      this.hashAppended(this.buf.subarray(header, off));
      this.hashAppended(bytes);
      this.hashAppended(this.buf.subarray(off, this.used));
    } else {
      if (!useZstd) copyInto(this.buf, off, bytes);
      this.buf.fill(0, off + len, off + len + padding);
      this.used = off + len + padding;
      this.hashAppended(this.buf.subarray(header, this.used));
    }
    this.offset += TAR_BLOCK + len + padding;
    return { len, codec: useZstd ? 'zstd' : 'none' };
  }

  /** Number of objects added so far. */
  get count(): number {
    return this.entries.size + this.batch.length;
  }

  /** Bytes the pack would have if finished now (at most; trailer included): roll to a new pack past a target. */
  get size(): number {
    return this.offset + (this.batch.length ? TAR_BLOCK + paddedLength(this.batchSize) : 0) + TAR_TRAILER;
  }

  /** The buffer the pack is built in: hand it to the next writer once the finished pack is sent. */
  get storage(): Buffer {
    return this.buf;
  }

  /**
   * Ends the tar stream and returns the pack bytes (a view of `storage`, valid until that is reused;
   * a copy when members were added by reference) and its index (entries sorted by oid).
   */
  finish(): { pack: Buffer; index: PackIndex } {
    const { pieces, index } = this.finishPieces();
    return { pack: pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, index.size), index };
  }

  /**
   * Ends the tar stream and returns the pack as the pieces to send back to back (views of `storage`,
   * valid until that is reused, and the bytes of members added by reference), and its index.
   */
  finishPieces(): { pieces: Buffer[]; index: PackIndex } {
    const { pieces, size, entries } = this.seal();
    let hasher = this.packHasher;
    if (this.hashAtFinish) {
      hasher = this.newHasher();
      for (const p of pieces) hasher.update(p);
    }
    return { pieces, index: { v: packIndexVersion(entries), pack: oidFromHex(hasher!.digestHex()), size, entries } };
  }

  /**
   * As {@link finishPieces}, but the index comes once the pack id is hashed: for a writer made with
   * `hashAtFinish`, on another thread where the pack lies in shared memory (see oidOfPieces), while
   * the caller builds the next pack. The pieces must stay unchanged until the index has come.
   */
  finishPiecesHashedApart(): { pieces: Buffer[]; objects: number; index: Promise<PackIndex> } {
    const { pieces, size, entries } = this.seal();
    const pack = this.hashAtFinish ? oidOfPieces(this.newHasher, pieces) : Promise.resolve(oidFromHex(this.packHasher!.digestHex()));
    return { pieces, objects: entries.length, index: pack.then((id) => ({ v: packIndexVersion(entries), pack: id, size, entries })) };
  }

  /** Ends the tar stream: the pack's pieces, its size and its index entries (sorted by oid). */
  private seal(): { pieces: Buffer[]; size: number; entries: PackEntry[] } {
    if (this.finished) throw badState('internal: PackWriter.finish called twice');
    this.writeBatch();
    this.finished = true;
    this.reserve(this.used + TAR_TRAILER);
    this.buf.fill(0, this.used, this.used + TAR_TRAILER);
    this.hashAppended(this.buf.subarray(this.used, this.used + TAR_TRAILER));
    this.used += TAR_TRAILER;
    this.offset += TAR_TRAILER;
    this.pieces.push(this.buf.subarray(this.sealed, this.used));
    const entries = [...this.entries.values()].sort((a, b) => (a.o < b.o ? -1 : a.o > b.o ? 1 : 0));
    return { pieces: this.pieces, size: this.offset, entries };
  }

  /** Feeds the pack id's hash the bytes just appended to the pack (made on first use). */
  private hashAppended(bytes: Uint8Array): void {
    if (this.hashAtFinish) return;
    (this.packHasher ??= this.newHasher()).update(bytes);
  }

  /** Grows the buffer (keeping what is written) to hold at least `bytes`; pieces already sealed keep the old one. */
  private reserve(bytes: number): void {
    if (this.buf.length >= bytes) return;
    const bigger = Buffer.allocUnsafe(Math.max(bytes, 2 * this.buf.length));
    this.buf.copy(bigger, 0, this.sealed, this.used);
    this.used -= this.sealed;
    this.sealed = 0;
    this.buf = bigger;
  }
}

/**
 * The decoded bytes of one member. `packBytesOrRange` is the whole pack, exactly the member's data
 * (`[entry.off, entry.off + entry.len)`, as a ranged GET returns it), or any range of the pack that
 * starts at `rangeStart` and covers the member (one GET for several neighbouring members).
 *
 * A short range, a broken zstd frame or a decoded size other than `entry.raw` is `E.OBJECT_CORRUPT`.
 * Decoding allocates exactly `entry.raw` bytes, so a crafted frame cannot balloon memory. For a raw
 * member the result may share memory with `packBytesOrRange`. This does not check the oid: call
 * {@link verifyMember} (blobs) or verify the rebuilt file (recipes).
 */
export function extractMember(packBytesOrRange: Uint8Array, entry: PackEntry, rangeStart?: number): Buffer {
  const bytes = asBuffer(packBytesOrRange);
  const start = rangeStart ?? (bytes.length === entry.len ? entry.off : 0);
  const from = entry.off - start;
  if (from < 0 || from + entry.len > bytes.length) {
    throw corrupt(entry.o, `its bytes [${entry.off}, ${entry.off + entry.len}) are not all in the ${bytes.length} bytes read from offset ${start}`);
  }
  const data = bytes.subarray(from, from + entry.len);
  const member = decodeMember(data, entry);
  // A batched object is its slice of the member (the index checked that it lies inside).
  return entry.at === undefined ? member : member.subarray(entry.at, entry.at + entry.raw);
}

/** The decoded bytes of the member `data` holds: `entry.of` bytes for a batch, else `entry.raw`. */
function decodeMember(data: Buffer, entry: PackEntry): Buffer {
  const size = entry.of ?? entry.raw;
  if (entry.c === 'none') {
    if (data.length !== size) throw corrupt(entry.o, `stored size ${data.length} is not its size ${size}`);
    return data;
  }
  const codec = loadZstd();
  // One whole frame, declaring exactly the size the index promises, and nothing after it.
  const frame = readZstdFrame(data);
  if (frame?.contentSize !== size || frame.frameSize !== data.length) throw corrupt(entry.o, 'its zstd frame does not match the index');
  let out: Buffer;
  try {
    out = codec.decompress(data, size);
  } catch (err) {
    throw corrupt(entry.o, `zstd: ${(err as Error).message}`, err);
  }
  return out;
}

/** Throws `E.OBJECT_CORRUPT` unless `bytes` hash to `oid`. */
export function verifyMember(newHasher: HasherFactory, oid: Oid, bytes: Uint8Array): void {
  const actual = hashBytes(newHasher, bytes);
  if (actual !== oid) {
    throw objectCorrupt(`object ${oid} is corrupt: its bytes hash to ${actual}`, { oid, actual });
  }
}

/** `extractMember` then, for a blob, `verifyMember`: the bytes of one object, checked. */
export function readMember(newHasher: HasherFactory, packBytesOrRange: Uint8Array, entry: PackEntry, rangeStart?: number): Buffer {
  const bytes = extractMember(packBytesOrRange, entry, rangeStart);
  if (entry.t === 'b') verifyMember(newHasher, entry.o, bytes);
  return bytes;
}

/** Throws `E.OBJECT_CORRUPT` unless a whole downloaded pack has the size and id its index names. */
export function verifyPack(newHasher: HasherFactory, pack: Uint8Array, index: PackIndex): void {
  if (pack.length !== index.size) {
    throw objectCorrupt(`pack ${index.pack} is corrupt: ${pack.length} bytes, expected ${index.size}`, { oid: index.pack });
  }
  verifyMember(newHasher, index.pack, pack);
}

/**
 * The fixed part of every member header (mode 0444, uid/gid/mtime 0, regular file, ustar magic);
 * name, size and checksum are filled in per member. Built once: 20,000 small objects are 20,000 headers.
 */
const HEADER_TEMPLATE = (() => {
  const h = Buffer.alloc(TAR_BLOCK);
  h.write('0000444\0', 100, 'ascii'); // mode
  h.write('0000000\0', 108, 'ascii'); // uid
  h.write('0000000\0', 116, 'ascii'); // gid
  h.write('00000000000\0', 136, 'ascii'); // mtime
  h.write('        ', 148, 'ascii'); // checksum is computed with this field as spaces
  h.write('0', 156, 'ascii'); // regular file
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write('0000000\0', 329, 'ascii'); // devmajor
  h.write('0000000\0', 337, 'ascii'); // devminor
  return h;
})();
const TEMPLATE_SUM = HEADER_TEMPLATE.reduce((sum, b) => sum + b, 0);

/** Writes a deterministic ustar header for a regular file at `at` (see the format note at the top). */
function writeTarHeader(buf: Buffer, at: number, name: string, size: number): void {
  HEADER_TEMPLATE.copy(buf, at);
  const nameLen = buf.write(name, at, 100, 'ascii');
  const sizeField = `${size.toString(8).padStart(11, '0')}\0`;
  buf.write(sizeField, at + 124, 'ascii');
  let sum = TEMPLATE_SUM;
  for (let i = 0; i < nameLen; i++) sum += buf[at + i]!;
  for (let i = 0; i < 11; i++) sum += buf[at + 124 + i]!; // the NUL adds nothing
  buf.write(`${sum.toString(8).padStart(6, '0')}\0 `, at + 148, 'ascii');
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function corrupt(oid: Oid, why: string, cause?: unknown): MlxError {
  return objectCorrupt(`pack member ${oid} is corrupt: ${why}`, { oid, cause });
}
