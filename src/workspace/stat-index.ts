import fs from 'node:fs';
import path from 'node:path';
import type { Oid } from '../hash/oid.js';
import { StatIndexWriter, StatTable, type StatEntry } from '../formats/stat-index.js';
import { parseTreeCache, serializeTreeCache, type TreeCache, type TreeRecord } from '../formats/tree-cache.js';
import { isErrno } from '../util/errors.js';
import { compareUtf8, inUtf8Order } from '../util/paths.js';
import { readFileIfExists, writeFileAtomicStreamSync, writeFileAtomicSync } from '../util/fs.js';

/** The fields of a stat that the index compares. */
export interface StatLike { size: number; mtimeMs: number; ctimeMs: number; ino: number }

/** The index file of versions 1 and 2 (JSON), removed once the binary index is written. */
const OLD_INDEX = 'index.json';

/** How many manifests known to be complete in the cache are remembered. */
const MAX_COMPLETE = 64;

/**
 * Remembers the oid of each work-tree file under the stat it had when hashed, so unchanged files are
 * never read again; and, per tracked directory, a fingerprint of all its stats with the manifest oid
 * they gave, so an unchanged directory is recognised without looking at single entries at all.
 * Derivable state: losing it costs time, never correctness. The per-file table is loaded only when a
 * directory's fingerprint does not answer; it is read in place from the file's bytes, and what this
 * process learns is kept beside it until `save` merges both into a new file.
 */
export class StatIndex {
  private table: StatTable | undefined;
  /** Entries learnt or forgotten since loading; they override the table. */
  private readonly changes = new ChangeLog();
  private trees: TreeCache | undefined;
  private dirtyTrees = false;

  private constructor(private readonly file: string) {}

  static load(file: string): StatIndex {
    return new StatIndex(file);
  }

  private get loaded(): StatTable {
    this.table ??= StatTable.parse(readBytesIfExists(this.file));
    return this.table;
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
    if (this.changes.size > 0) {
      const e = this.changes.get(path);
      if (e !== undefined) {
        if (!e || e.size !== stat.size || e.mtimeMs !== stat.mtimeMs || e.ctimeMs !== stat.ctimeMs || e.ino !== stat.ino) return undefined;
        return isTrusted(e) ? e.oid : undefined;
      }
    }
    const t = this.loaded;
    const i = t.find(path);
    if (i < 0 || !t.sameStat(i, stat)) return undefined;
    if (!isTrusted({ mtimeMs: t.mtimeAt(i), hashedAt: t.hashedAtAt(i) })) return undefined;
    return like !== undefined && t.oidEquals(i, like) ? like : t.oidAt(i);
  }

  /** The oid remembered for `path` whatever its stat: a candidate to confirm by hashing. */
  candidate(path: string): Oid | undefined {
    const e = this.changes.get(path);
    if (e !== undefined) return e?.oid;
    const i = this.loaded.find(path);
    return i < 0 ? undefined : this.loaded.oidAt(i);
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
    const under = `${prefix}/`;
    const t = this.loaded;
    for (let i = t.lowerBound(prefix); i < t.count; i++) {
      const p = t.pathAt(i);
      if (p !== prefix && !p.startsWith(under)) {
        // `prefix` + a byte below '/' (e.g. "data.bak") sorts between "data" and "data/...": go on.
        if (p.startsWith(prefix) && p.charCodeAt(prefix.length) < 0x2f) continue;
        break;
      }
      if (!keep(p) && this.changes.get(p) === undefined) this.changes.forget(p);
    }
    for (const p of this.changes.livePaths()) if ((p === prefix || p.startsWith(under)) && !keep(p)) this.changes.forget(p);
  }

  get isDirty(): boolean {
    return this.changes.size > 0 || this.dirtyTrees;
  }

  save(): void {
    if (!this.isDirty) return;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    if (this.changes.size > 0) {
      writeFileAtomicStreamSync(this.file, (write) => this.writeMerged(write), { durable: false });
      fs.rmSync(path.join(path.dirname(this.file), OLD_INDEX), { force: true });
      // What was written is now the table; later lookups in this process read it.
      this.table = undefined;
      this.changes.clear();
    }
    if (this.dirtyTrees) writeFileAtomicSync(this.treeFile, serializeTreeCache(this.treeCache), { durable: false });
    this.dirtyTrees = false;
  }

  /**
   * Writes the table with the changes merged in, as a new index file. Each change is placed by binary
   * search, and the unchanged records between two changes are copied as one run of bytes: after a 1%
   * edit of a large tree, the cost is the write, not a step per record.
   */
  private writeMerged(write: (data: Uint8Array) => void): void {
    const t = this.loaded;
    const out = new StatIndexWriter(write);
    let i = 0;
    for (const [key, e] of this.changes.inPathOrder()) {
      const at = t.lowerBound(key, i);
      out.addRaw(t.recordsBytes(i, at), at - i);
      i = at < t.count && t.compareWith(at, key) === 0 ? at + 1 : at;
      if (e) out.add(key, e);
    }
    out.addRaw(t.recordsBytes(i, t.count), t.count - i);
    out.finish();
  }
}

/**
 * What a process learnt (or forgot) of the index, as a log in columns: a walk records a million files
 * without a million entry objects. The last word on a path wins. The map from path to position is
 * built only when something asks about a path after it was recorded.
 */
class ChangeLog {
  private readonly paths: string[] = [];
  /** size, mtimeMs, ctimeMs, ino, hashedAt per change. */
  private readonly numbers: number[] = [];
  /** The oid, or null for a forgotten path. */
  private readonly oids: (Oid | null)[] = [];
  private positions: Map<string, number> | undefined;

  get size(): number {
    return this.paths.length;
  }

  set(path: string, st: StatLike, oid: Oid, hashedAt: number): void {
    this.numbers.push(st.size, st.mtimeMs, st.ctimeMs, st.ino, hashedAt);
    this.append(path, oid);
  }

  forget(path: string): void {
    this.numbers.push(0, 0, 0, 0, 0);
    this.append(path, null);
  }

  /** The latest change of `path`: an entry, null when forgotten, undefined when unchanged. */
  get(path: string): StatEntry | null | undefined {
    if (this.paths.length === 0) return undefined;
    this.positions ??= new Map(this.paths.map((p, i) => [p, i]));
    const i = this.positions.get(path);
    return i === undefined ? undefined : this.entryAt(i);
  }

  /** Paths whose latest change is an entry (not a removal). */
  *livePaths(): Iterable<string> {
    for (const [p, e] of this.inPathOrder()) if (e) yield p;
  }

  /** Each changed path once, with its latest change, in the index file's order. */
  *inPathOrder(): Iterable<[string, StatEntry | null]> {
    const n = this.paths.length;
    let order: number[] | undefined;
    // A walk records in path order; only other orders (or a path changed twice) need sorting.
    if (!inUtf8Order(this.paths, (p) => p)) {
      const last = new Map<string, number>();
      this.paths.forEach((p, i) => last.set(p, i));
      order = [...last.values()].sort((a, b) => compareUtf8(this.paths[a]!, this.paths[b]!));
    }
    for (let k = 0; k < (order ? order.length : n); k++) {
      const i = order ? order[k]! : k;
      yield [this.paths[i]!, this.entryAt(i)];
    }
  }

  clear(): void {
    this.paths.length = 0;
    this.numbers.length = 0;
    this.oids.length = 0;
    this.positions = undefined;
  }

  private append(path: string, oid: Oid | null): void {
    this.positions?.set(path, this.paths.length);
    this.paths.push(path);
    this.oids.push(oid);
  }

  private entryAt(i: number): StatEntry | null {
    const oid = this.oids[i];
    if (!oid) return null;
    const n = this.numbers;
    const at = i * 5;
    return { size: n[at]!, mtimeMs: n[at + 1]!, ctimeMs: n[at + 2]!, ino: n[at + 3]!, hashedAt: n[at + 4]!, oid };
  }
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
