import type { Oid } from '../hash/oid.js';
import type { StatEntry } from '../formats/stat-index.js';
import { compareByteRanges } from '../util/bytes.js';

/** The fields of a stat that the index keeps. */
export interface StatLike { size: number; mtimeMs: number; ctimeMs: number; ino: number }

/** Numbers kept per change: size, mtimeMs, ctimeMs, ino, hashedAt. */
const NUMBERS = 5;

/**
 * What a process learnt (or forgot) of the stat index, held in a few growing byte and number arrays:
 * paths and oids as bytes, five numbers per change. A first status after every file of a million was
 * touched records a million changes; as strings and arrays of objects they took hundreds of MB and
 * most of the collector's time, here they take about 140 bytes each and nothing for it to trace.
 * The last word on a path wins. Changes recorded in path order (as a walk makes them) are found by
 * binary search; only another order needs a map from path to position.
 */
export class StatChanges {
  private n = 0;
  /** Each change's path then oid (ASCII, none for a forgotten path), back to back. */
  private text = Buffer.alloc(1 << 12);
  /** Where change i's path starts, its oid starts, and (i + 1's path start) it ends. */
  private pathStarts = new Uint32Array(257);
  private oidStarts = new Uint32Array(256);
  private numbers = new Float64Array(256 * NUMBERS);
  /** Whether every path so far is after the one before it (UTF-8 bytes): no duplicates, no sorting. */
  private ordered = true;
  /** Position of each path's latest change, made only once the changes left path order. */
  private positions: Map<string, number> | undefined;
  private scratch = Buffer.alloc(256);

  get size(): number {
    return this.n;
  }

  set(path: string, st: StatLike, oid: Oid, hashedAt: number): void {
    this.append(path, oid, st.size, st.mtimeMs, st.ctimeMs, st.ino, hashedAt);
  }

  forget(path: string): void {
    this.append(path, '', 0, 0, 0, 0, 0);
  }

  /** Records an entry, or forgets the path for null. */
  put(path: string, e: StatEntry | null): void {
    if (e) this.set(path, e, e.oid, e.hashedAt);
    else this.forget(path);
  }

  putAll(changes: Iterable<[string, StatEntry | null]>): void {
    for (const [p, e] of changes) this.put(p, e);
  }

  /** The latest change of `path`: an entry, null when forgotten, undefined when unchanged. */
  get(path: string): StatEntry | null | undefined {
    if (this.n === 0) return undefined;
    const i = this.ordered ? this.search(path) : this.positionsMap().get(path);
    return i === undefined ? undefined : this.entryAt(i);
  }

  /** Paths whose latest change is an entry (not a removal). */
  *livePaths(): Iterable<string> {
    for (const [p, e] of this.inPathOrder()) if (e) yield p;
  }

  /** Each changed path once, with its latest change, in the index file's order (UTF-8 bytes). */
  *inPathOrder(): Iterable<[string, StatEntry | null]> {
    const order = this.ordered ? undefined : this.sortedLatest();
    const count = order ? order.length : this.n;
    for (let k = 0; k < count; k++) {
      const i = order ? order[k]! : k;
      yield [this.pathAt(i), this.entryAt(i)];
    }
  }

  clear(): void {
    this.n = 0;
    this.ordered = true;
    this.positions = undefined;
  }

  private append(path: string, oid: string, size: number, mtimeMs: number, ctimeMs: number, ino: number, hashedAt: number): void {
    const i = this.n;
    this.room(i + 1, path.length * 3 + oid.length);
    const start = this.pathStarts[i]!;
    const oidStart = start + this.text.write(path, start, 'utf8');
    const end = oidStart + this.text.write(oid, oidStart, 'latin1');
    if (this.ordered && i > 0 && compareByteRanges(this.text, this.pathStarts[i - 1]!, this.oidStarts[i - 1]!, this.text, start, oidStart) >= 0) this.ordered = false;
    this.oidStarts[i] = oidStart;
    this.pathStarts[i + 1] = end;
    const at = i * NUMBERS;
    const v = this.numbers;
    v[at] = size;
    v[at + 1] = mtimeMs;
    v[at + 2] = ctimeMs;
    v[at + 3] = ino;
    v[at + 4] = hashedAt;
    this.n++;
    if (!this.ordered) this.positionsMap().set(path, i);
  }

  /** Room for `count` changes and `bytes` more text; arrays grow by half again (a million changes: no doubling spike). */
  private room(count: number, bytes: number): void {
    if (count > this.oidStarts.length) {
      const size = Math.ceil(Math.max(count, this.oidStarts.length * 1.5));
      this.oidStarts = grown(this.oidStarts, new Uint32Array(size));
      this.pathStarts = grown(this.pathStarts, new Uint32Array(size + 1));
      this.numbers = grown(this.numbers, new Float64Array(size * NUMBERS));
    }
    const used = this.pathStarts[this.n]!;
    if (used + bytes > this.text.length) {
      const text = Buffer.alloc(Math.ceil(Math.max(used + bytes, this.text.length * 1.5)));
      this.text.copy(text, 0, 0, used);
      this.text = text;
    }
  }

  private positionsMap(): Map<string, number> {
    if (this.positions) return this.positions;
    const map = new Map<string, number>();
    // Built the moment order is lost; in order of position, so a path's latest change wins.
    for (let i = 0; i < this.n; i++) map.set(this.pathAt(i), i);
    this.positions = map;
    return map;
  }

  /** Binary search of ordered changes. */
  private search(path: string): number | undefined {
    if (this.scratch.length < path.length * 3) this.scratch = Buffer.alloc(path.length * 3);
    const len = this.scratch.write(path, 0, 'utf8');
    let lo = 0;
    let hi = this.n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareByteRanges(this.text, this.pathStarts[mid]!, this.oidStarts[mid]!, this.scratch, 0, len);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** The latest change of each path, in path order. */
  private sortedLatest(): number[] {
    const latest = [...this.positionsMap().values()];
    return latest.sort((a, b) => compareByteRanges(this.text, this.pathStarts[a]!, this.oidStarts[a]!, this.text, this.pathStarts[b]!, this.oidStarts[b]!));
  }

  private pathAt(i: number): string {
    return this.text.toString('utf8', this.pathStarts[i]!, this.oidStarts[i]!);
  }

  private entryAt(i: number): StatEntry | null {
    const oidStart = this.oidStarts[i]!;
    const end = this.pathStarts[i + 1]!;
    if (end === oidStart) return null;
    const v = this.numbers;
    const at = i * NUMBERS;
    return { size: v[at]!, mtimeMs: v[at + 1]!, ctimeMs: v[at + 2]!, ino: v[at + 3]!, hashedAt: v[at + 4]!, oid: this.text.toString('latin1', oidStart, end) };
  }
}

function grown<T extends Uint32Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
