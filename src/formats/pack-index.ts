import * as z from 'zod';
import { isOid, type Oid } from '../hash/oid.js';
import { MlxError, badPackIndex } from '../util/errors.js';
import { parseJsonWith } from './zod-error.js';

export const PACK_INDEX_VERSION = 1;

/** Bytes of one tar header block; members start and end on this boundary. */
export const TAR_BLOCK = 512;
/** A tar stream ends with two zero blocks. */
export const TAR_TRAILER = 2 * TAR_BLOCK;

/** What a pack member holds: `b` a blob (its bytes hash to `o`), `r` a file recipe for the file `o`. */
export type PackMemberType = 'b' | 'r';
/** How a member's data is stored: one zstd frame, or the raw bytes. */
export type PackCodec = 'zstd' | 'none';

/**
 * Where one object lives in its pack. `off`/`len` are the member's data bytes within the pack (a ranged
 * GET of `[off, off + len)` fetches exactly them); `raw` is the object's size once decoded.
 */
export interface PackEntry {
  o: Oid;
  t: PackMemberType;
  off: number;
  len: number;
  raw: number;
  c: PackCodec;
}

/** The index of one pack: the pack's own oid (BLAKE3 of its bytes), its size, and entries sorted by oid. */
export interface PackIndex {
  v: 1;
  pack: Oid;
  size: number;
  entries: PackEntry[];
}

const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const oid = z.string().refine(isOid, 'expected an object id (b3:<64 hex>)');
const EntrySchema = z.strictObject({
  o: oid,
  t: z.enum(['b', 'r']),
  off: count,
  len: count,
  raw: count,
  c: z.enum(['zstd', 'none']),
});
const PackIndexSchema = z.strictObject({
  v: z.literal(PACK_INDEX_VERSION),
  pack: oid,
  size: count,
  entries: z.array(EntrySchema),
});

/**
 * Canonical bytes of a pack index: fixed key order, entries sorted by oid, no whitespace. The same
 * pack always gets byte-identical index text.
 */
export function serializePackIndex(index: Omit<PackIndex, 'v'>): string {
  const sorted = [...index.entries].sort((a, b) => (a.o < b.o ? -1 : a.o > b.o ? 1 : 0));
  const parts = sorted.map((e) => `{"o":"${e.o}","t":"${e.t}","off":${e.off},"len":${e.len},"raw":${e.raw},"c":"${e.c}"}`);
  return `{"v":${PACK_INDEX_VERSION},"pack":"${index.pack}","size":${index.size},"entries":[${parts.join(',')}]}`;
}

/**
 * Parses and checks a pack index. Beyond the shape: entries are strictly sorted by oid (so no oid
 * repeats and lookups can bisect), every member's data lies inside the pack after its tar header and
 * before the trailer, on a block boundary, without overlapping another member, and a `none` member's
 * length equals its raw size. A crafted index can therefore never steer a reader outside the pack.
 */
export function parsePackIndex(text: string | Uint8Array, source: string): PackIndex {
  const index = parseJsonWith(PackIndexSchema, text, (why) => badIndex(source, why)) as PackIndex;
  if (index.size < TAR_TRAILER || index.size % TAR_BLOCK !== 0) {
    throw badIndex(source, `pack size ${index.size} is not a whole tar stream`);
  }
  const dataEnd = index.size - TAR_TRAILER;
  const entries = index.entries;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (i > 0 && !(entries[i - 1]!.o < e.o)) throw badIndex(source, `entries not strictly sorted by oid at ${e.o}`);
    if (e.off < TAR_BLOCK || e.off % TAR_BLOCK !== 0 || e.off + e.len > dataEnd) {
      throw badIndex(source, `entry ${e.o} (offset ${e.off}, length ${e.len}) lies outside the pack of ${index.size} bytes`);
    }
    if (e.c === 'none' && e.len !== e.raw) throw badIndex(source, `entry ${e.o} is stored raw but its length ${e.len} differs from its size ${e.raw}`);
  }
  const byOffset = [...entries].sort((a, b) => a.off - b.off);
  for (let i = 1; i < byOffset.length; i++) {
    const prev = byOffset[i - 1]!;
    const next = byOffset[i]!;
    // Each member's data is followed by padding to a block and the next member's header block.
    if (prev.off + paddedLength(prev.len) + TAR_BLOCK > next.off) throw badIndex(source, `entries ${prev.o} and ${next.o} overlap`);
  }
  return { v: PACK_INDEX_VERSION, pack: index.pack, size: index.size, entries };
}

/** The entry for `oid`, found by bisection (entries are sorted), or `undefined`. */
export function findPackEntry(index: PackIndex, oid: Oid): PackEntry | undefined {
  const entries = index.entries;
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const o = entries[mid]!.o;
    if (o === oid) return entries[mid];
    if (o < oid) lo = mid + 1;
    else hi = mid;
  }
  return undefined;
}

/** `len` rounded up to a whole number of tar blocks. */
export function paddedLength(len: number): number {
  return Math.ceil(len / TAR_BLOCK) * TAR_BLOCK;
}

function badIndex(source: string, why: string): MlxError {
  return badPackIndex(`malformed pack index ${source}: ${why}`, { index: source });
}
