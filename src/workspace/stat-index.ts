import fs from 'node:fs';
import path from 'node:path';
import type { Oid } from '../hash/oid.js';
import { parseStatIndex, serializeStatIndex, type StatEntry } from '../formats/stat-index.js';
import { readFileIfExists, writeFileAtomicSync } from '../util/fs.js';

/** The fields of a stat that the index compares. */
export interface StatLike { size: number; mtimeMs: number; ino: number }

/**
 * Remembers the oid of each workspace file under the stat it had when hashed, so unchanged files are
 * never read again. Derivable state: losing it costs time, never correctness.
 */
export class StatIndex {
  private dirty = false;

  private constructor(private readonly file: string, private readonly entries: Map<string, StatEntry>) {}

  static load(file: string): StatIndex {
    return new StatIndex(file, parseStatIndex(readFileIfExists(file)));
  }

  /** The remembered oid when `stat` still matches and the entry cannot be racily clean. */
  lookup(path: string, stat: StatLike): Oid | undefined {
    const e = this.entries.get(path);
    if (!e || e.size !== stat.size || e.mtimeMs !== stat.mtimeMs || e.ino !== stat.ino) return undefined;
    return isTrusted(e) ? e.oid : undefined;
  }

  record(path: string, stat: StatLike, oid: Oid, hashedAt: number): void {
    this.entries.set(path, { size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino, oid, hashedAt });
    this.dirty = true;
  }

  /** Forgets every entry at or under `prefix` that `keep` rejects. */
  prune(prefix: string, keep: (path: string) => boolean): void {
    const under = `${prefix}/`;
    for (const p of this.entries.keys()) {
      if ((p === prefix || p.startsWith(under)) && !keep(p)) {
        this.entries.delete(p);
        this.dirty = true;
      }
    }
  }

  get isDirty(): boolean {
    return this.dirty;
  }

  save(): void {
    if (!this.dirty) return;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    writeFileAtomicSync(this.file, serializeStatIndex(this.entries));
    this.dirty = false;
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
