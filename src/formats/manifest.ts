import * as z from 'zod/mini';
import { isOid, type Oid } from '../hash/oid.js';
import { MlxError, badManifest, badPath } from '../util/errors.js';
import { compareUtf8, inUtf8Order, pathRefusal, segmentRefusal } from '../util/paths.js';
import { parseJsonWith } from './zod-error.js';

export const MANIFEST_VERSION = 1;

/** A regular file: path, oid, size, executable bit. */
export interface FileEntry { p: string; o: Oid; s: number; x: boolean }
/** A symbolic link, stored as its target text (never followed). */
export interface LinkEntry { p: string; t: 'l'; l: string }
/** An empty directory, so checkout recreates the tree's exact shape. */
export interface DirEntry { p: string; t: 'd' }
export type ManifestEntry = FileEntry | LinkEntry | DirEntry;

export interface Manifest { v: 1; entries: ManifestEntry[] }

/** Built on first use: well-formed manifests are checked without it (readEntries), and building it costs start-up. */
function buildManifestSchema() {
  const entry = z.union([
    z.strictObject({ p: z.string(), o: z.string().check(z.refine(isOid, 'expected an object id')), s: z.int().check(z.nonnegative(), z.lte(Number.MAX_SAFE_INTEGER)), x: z.boolean() }),
    z.strictObject({ p: z.string(), t: z.literal('l'), l: z.string().check(z.minLength(1)) }),
    z.strictObject({ p: z.string(), t: z.literal('d') }),
  ]);
  return z.strictObject({ v: z.literal(MANIFEST_VERSION), entries: z.array(entry) });
}
let manifestSchema: ReturnType<typeof buildManifestSchema> | undefined;

export const isFileEntry = (e: ManifestEntry): e is FileEntry => !('t' in e);

/**
 * Canonical bytes of a manifest: entries sorted by UTF-8 path, fixed key order, no whitespace.
 * The directory's oid is the hash of exactly these bytes, so equal trees get equal oids.
 */
export function serializeManifest(entries: ManifestEntry[]): string {
  return [...manifestPieces(entries)].join('');
}

/**
 * The canonical bytes of {@link serializeManifest} as a series of pieces, a few thousand entries each,
 * for writers that stream them (a million entries never stand as one string).
 */
export function* manifestPieces(entries: ManifestEntry[]): Generator<string> {
  // Readers of the work tree hand entries over in this order already: no sorted copy is needed then.
  const sorted = inUtf8Order(entries, (e) => e.p) ? entries : [...entries].sort((a, b) => compareUtf8(a.p, b.p));
  yield `{"v":${MANIFEST_VERSION},"entries":[`;
  let block: string[] = [];
  let first = true;
  const flush = () => {
    const text = (first ? '' : ',') + block.join(',');
    first = false;
    block = [];
    return text;
  };
  for (const e of sorted) {
    if (isFileEntry(e)) block.push(`{"p":${JSON.stringify(e.p)},"o":"${e.o}","s":${e.s},"x":${e.x}}`);
    else if (e.t === 'l') block.push(`{"p":${JSON.stringify(e.p)},"t":"l","l":${JSON.stringify(e.l)}}`);
    else block.push(`{"p":${JSON.stringify(e.p)},"t":"d"}`);
    if (block.length === 4096) yield flush();
  }
  if (block.length > 0) yield flush();
  yield ']}';
}

/**
 * Parses and checks a manifest. Beyond the shape: every path is relative and normalised, no path
 * repeats, and no entry lies beneath a link or a file — so a crafted manifest can never make
 * checkout write outside the tracked directory.
 */
export function parseManifest(text: string, source: string): Manifest {
  const entries = readEntries(text, source);
  // A manifest in canonical order (every stored one mlx wrote) cannot repeat a path, and the entry a
  // folder's path would name is found by binary search: no map of every path is built. Other orders
  // (only a crafted manifest has one) are checked through a map.
  const sorted = inUtf8Order(entries, (e) => e.p);
  const kinds = sorted ? undefined : new Map<string, ManifestEntry>();
  let checkedDir: string | undefined;
  for (const e of entries) {
    // Entries of one folder share its path: the folder part is checked once, then only each last name.
    // The folder is compared in place (no string per entry).
    const slash = e.p.lastIndexOf('/');
    const sameDir = slash > 0 && checkedDir !== undefined && slash === checkedDir.length && e.p.startsWith(checkedDir);
    const why = sameDir ? segmentRefusal(e.p.slice(slash + 1)) : pathRefusal(e.p, 'entry');
    if (why !== undefined) throw badPath(`refusing directory manifest ${source}: entry path ${JSON.stringify(e.p)} ${why}`, { manifest: source, path: e.p, rule: why });
    if (!sameDir) checkedDir = slash < 0 ? '' : e.p.slice(0, slash);
    if (!kinds) continue;
    if (kinds.has(e.p)) throw malformedManifest(source, `path ${JSON.stringify(e.p)} appears twice`);
    kinds.set(e.p, e);
  }
  const entryAt = (p: string) => (kinds ? kinds.get(p) : findSortedEntry(entries, p));
  let parentsOf = '';
  for (const e of entries) {
    const slash = e.p.lastIndexOf('/');
    if (slash < 0) continue;
    // The same folder as the entry before: its parents are checked.
    if (slash === parentsOf.length && e.p.startsWith(parentsOf)) continue;
    const dir = e.p.slice(0, slash);
    let i = e.p.indexOf('/');
    while (i !== -1) {
      const parent = entryAt(e.p.slice(0, i));
      if (parent !== undefined) {
        const kind = isFileEntry(parent) ? 'file' : parent.t === 'l' ? 'link' : 'empty directory';
        throw malformedManifest(source, `entry ${JSON.stringify(e.p)} lies beneath a ${kind}`);
      }
      i = e.p.indexOf('/', i + 1);
    }
    parentsOf = dir;
  }
  return { v: MANIFEST_VERSION, entries };
}

/** The entry with path `p` in entries in manifest order (sorted by {@link compareUtf8}), if any. */
export function findSortedEntry(entries: readonly ManifestEntry[], p: string): ManifestEntry | undefined {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareUtf8(entries[mid]!.p, p);
    if (c === 0) return entries[mid];
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return undefined;
}

const byPath = (e: ManifestEntry) => e.p;

/**
 * Calls `visit` for every path of either list with its entry on each side (undefined where absent).
 * Both lists are normally in manifest order and are then merged in one pass, with no table of a
 * million paths; a list out of order (a manifest not written by mlx) is matched through a map.
 */
export function forEachEntryPair(from: readonly ManifestEntry[], to: readonly ManifestEntry[], visit: (a: ManifestEntry | undefined, b: ManifestEntry | undefined) => void): void {
  if (!inUtf8Order(from, byPath) || !inUtf8Order(to, byPath)) {
    const before = new Map(from.map((e) => [e.p, e]));
    const seen = new Set<string>();
    for (const e of to) {
      seen.add(e.p);
      visit(before.get(e.p), e);
    }
    for (const e of from) if (!seen.has(e.p)) visit(e, undefined);
    return;
  }
  let i = 0;
  let j = 0;
  while (i < from.length || j < to.length) {
    const c = i >= from.length ? 1 : j >= to.length ? -1 : compareUtf8(from[i]!.p, to[j]!.p);
    if (c === 0) visit(from[i++], to[j++]);
    else if (c < 0) visit(from[i++], undefined);
    else visit(undefined, to[j++]);
  }
}

/**
 * The entries of a manifest known to have passed {@link parseManifest} before (the same oid, so the
 * same bytes): the checks are not repeated. Over a 100,000-entry manifest they cost more than the JSON
 * parse itself. The caller vouches for the oid; anything else goes through parseManifest.
 */
export function entriesOfCheckedManifest(text: string): ManifestEntry[] {
  return (JSON.parse(text) as Manifest).entries;
}

/**
 * The entries of a manifest's JSON. A hand-written check of the exact schema answers for the common,
 * well-formed case (the schema library costs a second per million entries); anything it does not accept
 * goes through the schema, which then says precisely what is wrong.
 */
function readEntries(text: string, source: string): ManifestEntry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // JSON.parse fails only on bad JSON; the schema reader words the error.
  }
  const quick = raw === undefined ? undefined : wellFormedEntries(raw);
  return quick ?? (parseJsonWith((manifestSchema ??= buildManifestSchema()), text, (why) => malformedManifest(source, why)).entries as ManifestEntry[]);
}

function wellFormedEntries(raw: unknown): ManifestEntry[] | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const doc = raw as Record<string, unknown>;
  if (doc.v !== MANIFEST_VERSION || !Array.isArray(doc.entries) || Object.keys(doc).length !== 2) return undefined;
  for (const e of doc.entries as unknown[]) {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) return undefined;
    const r = e as Record<string, unknown>;
    if (typeof r.p !== 'string') return undefined;
    let keys = 0;
    for (const _ in r) keys++; // counted without the array Object.keys would allocate per entry
    if (r.t === undefined) {
      if (keys !== 4 || !isOid(r.o) || typeof r.x !== 'boolean' || !Number.isSafeInteger(r.s) || (r.s as number) < 0) return undefined;
    } else if (r.t === 'l') {
      if (keys !== 3 || typeof r.l !== 'string' || r.l.length === 0) return undefined;
    } else if (r.t !== 'd' || keys !== 2) return undefined;
  }
  return doc.entries as ManifestEntry[];
}

function malformedManifest(source: string, why: string): MlxError {
  return badManifest(`malformed directory manifest ${source}: ${why}`, { manifest: source });
}
