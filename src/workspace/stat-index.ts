import fs from 'node:fs';
import path from 'node:path';
import type { Oid } from '../hash/oid.js';
import { parseStatIndex, serializeStatIndex, type StatEntry } from '../formats/stat-index.js';
import { parseTreeCache, serializeTreeCache, type TreeRecord } from '../formats/tree-cache.js';
import { readFileIfExists, writeFileAtomicSync } from '../util/fs.js';

/** The fields of a stat that the index compares. */
export interface StatLike { size: number; mtimeMs: number; ctimeMs: number; ino: number }

/**
 * Remembers the oid of each work-tree file under the stat it had when hashed, so unchanged files are
 * never read again; and, per tracked directory, a fingerprint of all its stats with the manifest oid
 * they gave, so an unchanged directory is recognised without looking at single entries at all.
 * Derivable state: losing it costs time, never correctness. The per-file table is loaded only when a
 * directory's fingerprint does not answer.
 */
export class StatIndex {
  private loaded: Map<string, StatEntry> | undefined;
  private trees: Map<string, TreeRecord> | undefined;
  private dirtyFiles = false;
  private dirtyTrees = false;

  private constructor(private readonly file: string) {}

  static load(file: string): StatIndex {
    return new StatIndex(file);
  }

  private get entries(): Map<string, StatEntry> {
    this.loaded ??= parseStatIndex(readFileIfExists(this.file));
    return this.loaded;
  }

  private get treeFile(): string {
    return path.join(path.dirname(this.file), 'trees.json');
  }

  private get treeMap(): Map<string, TreeRecord> {
    this.trees ??= parseTreeCache(readFileIfExists(this.treeFile));
    return this.trees;
  }

  /** The remembered oid when `stat` still matches and the entry cannot be racily clean. */
  lookup(path: string, stat: StatLike): Oid | undefined {
    const e = this.entries.get(path);
    if (!e || e.size !== stat.size || e.mtimeMs !== stat.mtimeMs || e.ctimeMs !== stat.ctimeMs || e.ino !== stat.ino) return undefined;
    return isTrusted(e) ? e.oid : undefined;
  }

  /** The oid remembered for `path` whatever its stat: a candidate to confirm by hashing. */
  candidate(path: string): Oid | undefined {
    return this.entries.get(path)?.oid;
  }

  record(path: string, stat: StatLike, oid: Oid, hashedAt: number): void {
    this.entries.set(path, { size: stat.size, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, ino: stat.ino, oid, hashedAt });
    this.dirtyFiles = true;
  }

  /** The manifest oid a directory had when its stats had fingerprint `fp`, if remembered. */
  treeOid(path: string, fp: string): Oid | undefined {
    const t = this.treeMap.get(path);
    return t && t.fp === fp ? t.oid : undefined;
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
    for (const p of this.entries.keys()) {
      if ((p === prefix || p.startsWith(under)) && !keep(p)) {
        this.entries.delete(p);
        this.dirtyFiles = true;
      }
    }
  }

  get isDirty(): boolean {
    return this.dirtyFiles || this.dirtyTrees;
  }

  save(): void {
    if (!this.isDirty) return;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    if (this.dirtyFiles) writeFileAtomicSync(this.file, serializeStatIndex(this.entries), { durable: false });
    if (this.dirtyTrees) writeFileAtomicSync(this.treeFile, serializeTreeCache(this.treeMap), { durable: false });
    this.dirtyFiles = false;
    this.dirtyTrees = false;
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
