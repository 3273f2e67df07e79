import fs from 'node:fs';
import path from 'node:path';
import type { Oid } from '../hash/oid.js';
import { StatIndexWriter, StatTable, type StatEntry } from '../formats/stat-index.js';
import { parseStatLog, statLogBatch, statLogHeader } from '../formats/stat-index-log.js';
import { failpointSync } from '../util/failpoint.js';
import { parseTreeCache, serializeTreeCache, type TreeCache, type TreeRecord } from '../formats/tree-cache.js';
import { isErrno } from '../util/errors.js';
import { compareUtf8 } from '../util/paths.js';
import { asciiEquals, compareWithJoined } from '../util/bytes.js';
import { readFileIfExists, writeFileAtomicStreamSync, writeFileAtomicSync } from '../util/fs.js';

import { StatChanges, type StatLike } from './stat-changes.js';

export type { StatLike } from './stat-changes.js';

/** The index file of versions 1 and 2 (JSON), removed once the binary index is written. */
const OLD_INDEX = 'index.json';

/** The change log beside the index: `<index>.log`. */
const LOG_SUFFIX = '.log';

/** The log is merged into the index once it holds more records than this share of the index's (or MIN_LOG_RECORDS). */
const LOG_SHARE = 1 / 8;
const MIN_LOG_RECORDS = 4096;

/** How many manifests known to be complete in the cache are remembered. */
const MAX_COMPLETE = 64;

/**
 * Remembers the oid of each work-tree file under the stat it had when hashed, so unchanged files are
 * never read again; and, per tracked directory, a fingerprint of all its stats with the manifest oid
 * they gave, so an unchanged directory is recognised without looking at single entries at all.
 * Derivable state: losing it costs time, never correctness. The per-file table is loaded only when a
 * directory's fingerprint does not answer; it is read in place from the file's bytes, with the change
 * log beside it (what earlier commands learnt since it was written) over it. What this process learns
 * is kept in memory until `save` appends it to the log, or merges all into a new file.
 */
export class StatIndex {
  private table: StatTable | undefined;
  /** Entries of the change log file beside the table (read with it); they override the table. */
  private readonly logged = new StatChanges();
  /** The log's live paths in index order, made when prune first needs them. */
  private loggedPaths: string[] | undefined;
  /** Entries learnt or forgotten since loading; they override the log and the table. */
  private readonly changes = new StatChanges();
  private trees: TreeCache | undefined;
  private dirtyTrees = false;
  /** Why the index file on disk was not used, when it was damaged (it is rebuilt as files are hashed). */
  damage: string | undefined;

  private constructor(private readonly file: string) {}

  static load(file: string): StatIndex {
    return new StatIndex(file);
  }

  private get loaded(): StatTable {
    if (this.table) return this.table;
    const { table, damage } = StatTable.read(readBytesIfExists(this.file));
    this.table = table;
    this.damage ??= damage;
    this.logged.clear();
    this.loggedPaths = undefined;
    for (const [p, e] of parseStatLog(readBytesIfExists(this.logFile), this.table.identity)?.changes ?? []) this.logged.put(p, e);
    return this.table;
  }

  private get logFile(): string {
    return `${this.file}${LOG_SUFFIX}`;
  }

  /** The latest word on `path` since the table was written: an entry, null when forgotten, undefined when none. */
  private changed(path: string): StatEntry | null | undefined {
    const e = this.changes.get(path);
    return e !== undefined ? e : this.logged.get(path);
  }

  private get treeFile(): string {
    return path.join(path.dirname(this.file), 'trees.json');
  }

  private get treeCache(): TreeCache {
    this.trees ??= parseTreeCache(readFileIfExists(this.treeFile));
    return this.trees;
  }

  private get treeMap(): Map<string, TreeRecord> {
    return this.treeCache.trees;
  }

  /** Whether every object of manifest `oid` was in the cache when it last had contents stamp `stamp`. */
  knownComplete(oid: Oid, stamp: string): boolean {
    return this.treeCache.complete.get(oid) === stamp;
  }

  /**
   * Whether manifest `oid` passed the manifest checks before: every manifest named here (a directory's
   * recorded manifest, or one known complete) was either made from a walk of the work tree or read
   * whole and checked by the command that recorded it.
   */
  knownManifest(oid: Oid): boolean {
    if (this.treeCache.complete.has(oid)) return true;
    for (const t of this.treeMap.values()) if (t.oid === oid) return true;
    return false;
  }

  /** Remembers that every object of manifest `oid` was in the cache at contents stamp `stamp`. */
  recordComplete(oid: Oid, stamp: string): void {
    const complete = this.treeCache.complete;
    if (complete.get(oid) === stamp) return;
    complete.delete(oid);
    complete.set(oid, stamp);
    // A few recent manifests are all a work tree asks about; the oldest are forgotten.
    for (const old of complete.keys()) {
      if (complete.size <= MAX_COMPLETE) break;
      complete.delete(old);
    }
    this.dirtyTrees = true;
  }

  /**
   * The remembered oid when `stat` still matches and the entry cannot be racily clean. When it equals
   * `like` (the oid a caller expects), `like` itself is returned and no string is made.
   */
  lookup(path: string, stat: StatLike, like?: Oid): Oid | undefined {
    const t = this.loaded;
    if (this.changes.size > 0 || this.logged.size > 0) {
      const e = this.changed(path);
      if (e !== undefined) {
        if (!e || e.size !== stat.size || e.mtimeMs !== stat.mtimeMs || e.ctimeMs !== stat.ctimeMs || e.ino !== stat.ino) return undefined;
        return isTrusted(e) ? e.oid : undefined;
      }
    }
    const i = t.find(path);
    if (i < 0 || !t.sameStat(i, stat)) return undefined;
    if (!isTrusted({ mtimeMs: t.mtimeAt(i), hashedAt: t.hashedAtAt(i) })) return undefined;
    return like !== undefined && t.oidEquals(i, like) ? like : t.oidAt(i);
  }

  /**
   * Whether {@link lookup} would answer the oid whose ASCII bytes are `start`..`end` of `oid`: asked
   * for every file of a large directory, it compares in place and makes no oid string.
   */
  holds(path: string, stat: StatLike, oid: Uint8Array, start: number, end: number): boolean {
    const t = this.loaded;
    if (this.changes.size > 0 || this.logged.size > 0) {
      const e = this.changed(path);
      if (e !== undefined) return !!e && this.lookup(path, stat) !== undefined && asciiEquals(e.oid, oid, start, end);
    }
    const i = t.find(path);
    return i >= 0 && t.sameStat(i, stat) && isTrusted({ mtimeMs: t.mtimeAt(i), hashedAt: t.hashedAtAt(i) }) && t.oidIsBytes(i, oid, start, end);
  }

  /**
   * A reader of the entries under folder `dir` for look-ups in path order (as a walk of it makes
   * them): each costs a byte comparison or two against the next entries, and makes no string.
   */
  cursor(dir: string): IndexCursor {
    const t = this.loaded;
    const under = `${dir}/`;
    // What this process and the log changed under `dir` (the process's word wins), in path order.
    const overlay = new Map<string, StatEntry | null>();
    for (const log of [this.logged, this.changes]) {
      if (log.size === 0) continue;
      for (const [p, e] of log.inPathOrder()) if (p.startsWith(under)) overlay.set(p, e);
    }
    const changed = [...overlay].sort((a, b) => compareUtf8(a[0], b[0])).map(([p, e]) => ({ path: Buffer.from(p, 'utf8'), entry: e }));
    return new IndexCursor(t, Buffer.from(under, 'utf8'), changed, t.lowerBound(under));
  }

  /** The oid remembered for `path` whatever its stat: a candidate to confirm by hashing. */
  candidate(path: string): Oid | undefined {
    const t = this.loaded;
    const e = this.changed(path);
    if (e !== undefined) return e?.oid;
    const i = t.find(path);
    return i < 0 ? undefined : t.oidAt(i);
  }

  record(path: string, stat: StatLike, oid: Oid, hashedAt: number): void {
    this.changes.set(path, stat, oid, hashedAt);
  }

  /** The manifest oid a directory had when its stats had fingerprint `fp`, if remembered. */
  treeOid(path: string, fp: string): Oid | undefined {
    const t = this.treeMap.get(path);
    return t && t.fp === fp ? t.oid : undefined;
  }

  /** The manifest oid recorded for a directory, whatever its fingerprint: whether a walk can answer. */
  treeRecord(path: string): TreeRecord | undefined {
    return this.treeMap.get(path);
  }

  recordTree(path: string, fp: string, oid: Oid): void {
    const t = this.treeMap.get(path);
    if (t && t.fp === fp && t.oid === oid) return;
    this.treeMap.set(path, { fp, oid });
    this.dirtyTrees = true;
  }

  /** Forgets every entry at or under `prefix` that `keep` rejects. */
  prune(prefix: string, keep: (path: string) => boolean): void {
    const t = this.loaded;
    for (let i = t.lowerBound(prefix); i < t.count; i++) {
      const p = t.pathAt(i);
      const where = placeOf(p, prefix);
      if (where === PAST) break;
      if (where === AT && !keep(p) && this.changes.get(p) === undefined) this.changes.forget(p);
    }
    // What only the log holds, found the same way in its paths sorted once (checkout prunes per tracked path).
    const logged = (this.loggedPaths ??= [...this.logged.livePaths()]);
    for (let k = lowerBoundOf(logged, prefix); k < logged.length; k++) {
      const p = logged[k]!;
      const where = placeOf(p, prefix);
      if (where === PAST) break;
      if (where === AT && !keep(p) && this.changes.get(p) === undefined) this.changes.forget(p);
    }
    const under = `${prefix}/`;
    for (const p of this.changes.livePaths()) if ((p === prefix || p.startsWith(under)) && !keep(p)) this.changes.forget(p);
  }

  get isDirty(): boolean {
    return this.changes.size > 0 || this.dirtyTrees;
  }

  save(): void {
    if (!this.isDirty) return;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    if (this.changes.size > 0 && !this.appendToLog()) {
      writeFileAtomicStreamSync(this.file, (write) => this.writeMerged(write, overlaid(this.logged.inPathOrder(), this.changes.inPathOrder())), { durable: false });
      // The log now extends an index that is gone: it would be ignored, but it is not kept.
      fs.rmSync(this.logFile, { force: true });
      fs.rmSync(path.join(path.dirname(this.file), OLD_INDEX), { force: true });
      // What was written is now the table; later lookups in this process read it.
      this.table = undefined;
      this.changes.clear();
    }
    if (this.dirtyTrees) writeFileAtomicSync(this.treeFile, serializeTreeCache(this.treeCache), { durable: false });
    this.dirtyTrees = false;
  }

  /**
   * Appends this process's changes to the log beside the index, as one batch, when the index on disk is
   * still the one this process read and the log stays small beside it: a 1% edit of a large tree then
   * writes its 1%, not the whole index again. Returns false when the index must be written whole.
   */
  private appendToLog(): boolean {
    const base = this.loaded.identity;
    if (!base || !sameIdentity(this.file, base)) return false;
    // Read again under the lock: another command may have appended since this one loaded it.
    const log = parseStatLog(readBytesIfExists(this.logFile), base);
    const logged = log?.changes.length ?? 0;
    if (logged + this.changes.size > Math.max(MIN_LOG_RECORDS, this.loaded.count * LOG_SHARE)) return false;
    const batch = statLogBatch(this.changes.inPathOrder());
    // A log of another index, or none, starts again with its header; a batch cut short is written over.
    const fd = fs.openSync(this.logFile, log ? 'r+' : 'w');
    try {
      let at = log?.validLength ?? 0;
      if (!log) at += writeAllAt(fd, statLogHeader(base), 0);
      else fs.ftruncateSync(fd, at);
      const half = batch.length >>> 1;
      at += writeAllAt(fd, batch.subarray(0, half), at);
      failpointSync('stat-index.log-half-written');
      writeAllAt(fd, batch.subarray(half), at);
    } finally {
      fs.closeSync(fd);
    }
    this.logged.putAll(this.changes.inPathOrder());
    this.loggedPaths = undefined;
    this.changes.clear();
    return true;
  }

  /**
   * Writes the table with the changes merged in, as a new index file. Each change is placed by binary
   * search, and the unchanged records between two changes are copied as one run of bytes: after a 1%
   * edit of a large tree, the cost is the write, not a step per record.
   */
  private writeMerged(write: (data: Uint8Array) => void, changes: Iterable<[string, StatEntry | null]>): void {
    const t = this.loaded;
    const out = new StatIndexWriter(write);
    let i = 0;
    for (const [key, e] of changes) {
      const at = t.lowerBound(key, i);
      out.addRaw(t.recordsBytes(i, at), at - i);
      i = at < t.count && t.compareWith(at, key) === 0 ? at + 1 : at;
      if (e) out.add(key, e);
    }
    out.addRaw(t.recordsBytes(i, t.count), t.count - i);
    out.finish();
  }
}

/** What an {@link IndexCursor} knows of a file: nothing it can trust for this stat, the oid asked about, or another. */
export const UNKNOWN = 0;
export const SAME_OID = 1;
export const OTHER_OID = 2;

/** See {@link StatIndex.cursor}. */
export class IndexCursor {
  /** Next changed entry and next table record that a later look-up can match. */
  private k = 0;
  /** The trusted entry of the last {@link match} that answered OTHER_OID: a changed entry, or a table record's number. */
  private other: StatEntry | number = -1;

  constructor(
    private readonly table: StatTable,
    private readonly prefix: Buffer,
    private readonly changed: { path: Buffer; entry: StatEntry | null }[],
    private t: number,
  ) {}

  /**
   * What {@link StatIndex.holds} answers for the path `dir/` + bytes `start`..`end` of `names`; the
   * paths asked for must increase from call to call.
   */
  holds(names: Uint8Array, start: number, end: number, stat: StatLike, oid: Uint8Array, oidStart: number, oidEnd: number): boolean {
    return this.match(names, start, end, stat, oid, oidStart, oidEnd) === SAME_OID;
  }

  /**
   * As {@link holds}, telling a trusted entry of another oid (the file was changed and hashed before:
   * {@link otherOid} names it, no need to hash it again) from none (UNKNOWN).
   */
  match(names: Uint8Array, start: number, end: number, stat: StatLike, oid: Uint8Array, oidStart: number, oidEnd: number): number {
    const ch = this.changed;
    const pre = this.prefix;
    while (this.k < ch.length) {
      const c = ch[this.k]!;
      const d = compareWithJoined(c.path, 0, c.path.length, pre, names, start, end);
      if (d > 0) break;
      this.k++;
      if (d < 0) continue;
      const e = c.entry;
      if (!e || !sameStat(e, stat) || !isTrusted(e)) return UNKNOWN;
      if (asciiEquals(e.oid, oid, oidStart, oidEnd)) return SAME_OID;
      this.other = e;
      return OTHER_OID;
    }
    const t = this.table;
    while (this.t < t.count) {
      const d = t.compareJoined(this.t, pre, names, start, end);
      if (d > 0) return UNKNOWN;
      const i = this.t++;
      if (d < 0) continue;
      if (!t.sameStat(i, stat) || !isTrusted({ mtimeMs: t.mtimeAt(i), hashedAt: t.hashedAtAt(i) })) return UNKNOWN;
      if (t.oidIsBytes(i, oid, oidStart, oidEnd)) return SAME_OID;
      // A record whose bytes make no oid is never trusted.
      if (t.oidAt(i) === undefined) return UNKNOWN;
      this.other = i;
      return OTHER_OID;
    }
    return UNKNOWN;
  }

  /** The oid of the entry the last OTHER_OID answer found. */
  otherOid(): Oid {
    const o = this.other;
    return typeof o === 'number' ? this.table.oidAt(o)! : o.oid;
  }
}

function sameStat(e: StatEntry, st: StatLike): boolean {
  return e.size === st.size && e.mtimeMs === st.mtimeMs && e.ctimeMs === st.ctimeMs && e.ino === st.ino;
}

/**
 * Two lists of changes in path order merged into one, `over`'s word winning where both name a path:
 * the log and this process's changes are written out without a merged copy of either.
 */
function* overlaid(under: Iterable<[string, StatEntry | null]>, over: Iterable<[string, StatEntry | null]>): Iterable<[string, StatEntry | null]> {
  const a = under[Symbol.iterator]();
  const b = over[Symbol.iterator]();
  let x = a.next();
  let y = b.next();
  while (!x.done || !y.done) {
    const c = x.done ? 1 : y.done ? -1 : compareUtf8(x.value[0], y.value[0]);
    if (c < 0) {
      yield x.value;
      x = a.next();
      continue;
    }
    yield y.value;
    if (c === 0) x = a.next();
    y = b.next();
  }
}

/** Where a path lies against a prefix, in index order, from the prefix on. */
const AT = 0;
const BESIDE = 1;
const PAST = 2;

function placeOf(p: string, prefix: string): number {
  if (p === prefix || (p.startsWith(prefix) && p.charCodeAt(prefix.length) === 0x2f)) return AT;
  // `prefix` + a byte below '/' (e.g. "data.bak") sorts between "data" and "data/...": go on.
  return p.startsWith(prefix) && p.charCodeAt(prefix.length) < 0x2f ? BESIDE : PAST;
}

/** The first of `paths` (in index order) not before `p`. */
function lowerBoundOf(paths: string[], p: string): number {
  let lo = 0;
  let hi = paths.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareUtf8(paths[mid]!, p) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether the index file on disk still ends with checksum `base` (no other command rewrote it). */
function sameIdentity(file: string, base: Buffer): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return false;
    throw err;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const tail = Buffer.alloc(base.length);
    return size >= tail.length && fs.readSync(fd, tail, 0, tail.length, size - tail.length) === tail.length && tail.equals(base);
  } finally {
    fs.closeSync(fd);
  }
}

function writeAllAt(fd: number, data: Uint8Array, at: number): number {
  for (let done = 0; done < data.length; ) done += fs.writeSync(fd, data, done, data.length - done, at + done);
  return data.length;
}

function readBytesIfExists(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return undefined;
    throw err;
  }
}

/**
 * Racy-clean guard (as in git): a file modified within one timestamp tick of being hashed can change
 * again without its mtime moving. Such entries are re-hashed once; the next hash makes them trusted.
 * A tick is taken as 1 s on filesystems with whole-second times, 20 ms otherwise.
 */
export function isTrusted(e: Pick<StatEntry, 'mtimeMs' | 'hashedAt'>): boolean {
  const tick = Number.isInteger(e.mtimeMs / 1000) ? 1000 : 20;
  return e.mtimeMs + tick <= e.hashedAt;
}
