import * as z from 'zod/mini';
import { isOid, type Oid } from '../hash/oid.js';
import { MlxError, badPackIndex } from '../util/errors.js';
import { describeZodError, parseJsonWith } from './zod-error.js';

/** Version 1: one object per member. Version 2 adds batched members (`at`/`of`); a pack without any keeps version 1. */
export const PACK_INDEX_VERSION = 2;

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
  /**
   * In a batched member (several small objects in one member, version 2): the object's offset in the
   * member's decoded bytes, and `of` the decoded size of the whole member. `raw` bytes from `at`.
   */
  at?: number;
  of?: number;
}

/** The index of one pack: the pack's own oid (BLAKE3 of its bytes), its size, and entries sorted by oid. */
export interface PackIndex {
  v: 1 | 2;
  pack: Oid;
  size: number;
  entries: PackEntry[];
}

const count = z.int().check(z.nonnegative(), z.lte(Number.MAX_SAFE_INTEGER));
const oid = z.string().check(z.refine(isOid, 'expected an object id (b3:<64 hex>)'));
const codec = z.enum(['zstd', 'none']);
const EntrySchema = z.strictObject({
  o: oid,
  t: z.enum(['b', 'r']),
  off: count,
  len: count,
  raw: count,
  c: codec,
});
/** A batched member: `[off, len, c, of, [<t><64 hex>, raw, ...]]`, its objects in the order of their bytes. */
const BatchSchema = z.tuple([count, count, codec, count, z.array(z.union([z.string().check(z.regex(/^[br][0-9a-f]{64}$/, 'expected b or r and 64 hex')), count]))]);
const PackIndexSchema = z.union([
  z.strictObject({ v: z.literal(1), pack: oid, size: count, entries: z.array(EntrySchema) }),
  z.strictObject({ v: z.literal(2), pack: oid, size: count, entries: z.array(EntrySchema), batches: z.array(BatchSchema) }),
]);
type PackIndexJson = z.infer<typeof PackIndexSchema>;

/**
 * Canonical bytes of a pack index: fixed key order, entries sorted by oid, no whitespace. The same
 * pack always gets byte-identical index text. Version 2 (only when a member is batched) lists the
 * objects of batched members under `batches`, by offset, each object's type and oid then its size;
 * its place in the member is the sum of the sizes before it, so it is not written.
 */
export function serializePackIndex(index: Omit<PackIndex, 'v'>): string {
  const sorted = [...index.entries].sort((a, b) => (a.o < b.o ? -1 : a.o > b.o ? 1 : 0));
  const plain = sorted.filter((e) => e.at === undefined).map((e) => `{"o":"${e.o}","t":"${e.t}","off":${e.off},"len":${e.len},"raw":${e.raw},"c":"${e.c}"}`);
  const head = `"pack":"${index.pack}","size":${index.size},"entries":[${plain.join(',')}]`;
  if (plain.length === sorted.length) return `{"v":1,${head}}`;
  const batches = new Map<number, PackEntry[]>();
  for (const e of sorted) if (e.at !== undefined) (batches.get(e.off) ?? batches.set(e.off, []).get(e.off)!).push(e);
  const parts = [...batches.values()].sort((a, b) => a[0]!.off - b[0]!.off).map((objs) => {
    objs.sort((a, b) => a.at! - b.at!);
    const [first] = objs as [PackEntry];
    return `[${first.off},${first.len},"${first.c}",${first.of},[${objs.map((e) => `"${e.t}${e.o.slice(3)}",${e.raw}`).join(',')}]]`;
  });
  return `{"v":2,${head},"batches":[${parts.join(',')}]}`;
}

/** A pack index from its parsed JSON, checked as {@link parsePackIndex} does (formats that embed pack indexes use it). */
export function packIndexFromJson(raw: unknown, source: string): PackIndex {
  const parsed = PackIndexSchema.safeParse(raw);
  if (!parsed.success) throw badIndex(source, describeZodError(parsed.error));
  return checkPackIndex(expand(parsed.data, source), source);
}

/** The in-memory form: every object an entry, batched ones with `at` and `of`, sorted by oid. */
function expand(json: PackIndexJson, source: string): PackIndex {
  const entries: PackEntry[] = json.entries.map((e) => ({ ...e, o: e.o as Oid }));
  if (json.v === 1) return { v: 1, pack: json.pack as Oid, size: json.size, entries };
  for (const [off, len, c, of, objects] of json.batches) {
    if (objects.length < 4 || objects.length % 2 !== 0) throw badIndex(source, `the batch at ${off} does not list two or more objects as type-and-oid, size pairs`);
    let at = 0;
    for (let i = 0; i < objects.length; i += 2) {
      const [name, raw] = [objects[i], objects[i + 1]];
      if (typeof name !== 'string' || typeof raw !== 'number') throw badIndex(source, `the batch at ${off} does not list type-and-oid, size pairs`);
      entries.push({ o: `b3:${name.slice(1)}` as Oid, t: name[0] as PackMemberType, off, len, raw, c, at, of });
      at += raw;
    }
    if (at !== of) throw badIndex(source, `the objects of the batch at ${off} add up to ${at} bytes, not ${of}`);
  }
  entries.sort((a, b) => (a.o < b.o ? -1 : a.o > b.o ? 1 : 0));
  return { v: 2, pack: json.pack as Oid, size: json.size, entries };
}

/** The version an index of these entries has: 2 only when a member is batched, so other packs keep version 1. */
export function packIndexVersion(entries: readonly PackEntry[]): 1 | 2 {
  return entries.some((e) => e.at !== undefined) ? 2 : 1;
}

/**
 * Parses and checks a pack index. Beyond the shape: entries are strictly sorted by oid (so no oid
 * repeats and lookups can bisect), every member's data lies inside the pack after its tar header and
 * before the trailer, on a block boundary, without overlapping another member, and a `none` member's
 * length equals its raw size. A crafted index can therefore never steer a reader outside the pack.
 */
export function parsePackIndex(text: string | Uint8Array, source: string): PackIndex {
  return checkPackIndex(expand(parseJsonWith(PackIndexSchema, text, (why) => badIndex(source, why)), source), source);
}

/** The checks of {@link parsePackIndex} beyond the shape, on an index whose shape is already checked. */
function checkPackIndex(index: PackIndex, source: string): PackIndex {
  if (index.size < TAR_TRAILER || index.size % TAR_BLOCK !== 0) {
    throw badIndex(source, `pack size ${index.size} is not a whole tar stream`);
  }
  if (index.v !== packIndexVersion(index.entries)) throw badIndex(source, `version ${index.v} does not match its entries (batched members are version 2 only)`);
  const dataEnd = index.size - TAR_TRAILER;
  const entries = index.entries;
  // One per member: batched objects share their member's `off`, `len`, `c` and `of`.
  const members = new Map<number, PackEntry>();
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (i > 0 && !(entries[i - 1]!.o < e.o)) throw badIndex(source, `entries not strictly sorted by oid at ${e.o}`);
    if (e.off < TAR_BLOCK || e.off % TAR_BLOCK !== 0 || e.off + e.len > dataEnd) {
      throw badIndex(source, `entry ${e.o} (offset ${e.off}, length ${e.len}) lies outside the pack of ${index.size} bytes`);
    }
    if ((e.at === undefined) !== (e.of === undefined)) throw badIndex(source, `entry ${e.o} has only one of at and of`);
    const decoded = e.of ?? e.raw;
    if (e.at !== undefined && e.at + e.raw > decoded) throw badIndex(source, `entry ${e.o} (at ${e.at}, size ${e.raw}) lies outside its batch of ${decoded} bytes`);
    if (e.c === 'none' && e.len !== decoded) throw badIndex(source, `entry ${e.o} is stored raw but its length ${e.len} differs from its size ${decoded}`);
    const member = members.get(e.off);
    if (member === undefined) members.set(e.off, e);
    else if (member.at === undefined || e.at === undefined || member.len !== e.len || member.c !== e.c || member.of !== e.of) {
      throw badIndex(source, `entries ${member.o} and ${e.o} overlap`);
    }
  }
  const byOffset = [...members.values()].sort((a, b) => a.off - b.off);
  for (let i = 1; i < byOffset.length; i++) {
    const prev = byOffset[i - 1]!;
    const next = byOffset[i]!;
    // Each member's data is followed by padding to a block and the next member's header block.
    if (prev.off + paddedLength(prev.len) + TAR_BLOCK > next.off) throw badIndex(source, `entries ${prev.o} and ${next.o} overlap`);
  }
  return { v: index.v, pack: index.pack, size: index.size, entries };
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
