import fs from 'node:fs';
import path from 'node:path';
import { compareUtf8, isDotName } from '../util/paths.js';
import { LSTAT_FIELDS, lstatNames, PARALLEL_LSTAT_MIN } from './lstat-thread.js';

/**
 * The fields of a file's stat that mlx uses. A walk keeps this small record, not the `fs.Stats`
 * (which in Node 20 carries four Date objects): 20,000 retained `Stats` made status spend more time
 * in garbage collection than in `lstat`.
 */
export type FileStat = Pick<fs.Stats, 'size' | 'mtimeMs' | 'ctimeMs' | 'ino' | 'mode' | 'nlink' | 'dev'>;

/** The `FileStat` part of a full stat. */
export function fileStat(st: FileStat): FileStat {
  return { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, mode: st.mode, nlink: st.nlink, dev: st.dev };
}

export type Scanned =
  | { kind: 'file'; rel: string; stat: FileStat }
  | { kind: 'link'; rel: string; target: string }
  | { kind: 'emptydir'; rel: string };

/** What a directory walk found, plus what it skipped and why. */
export interface ScanResult {
  entries: Scanned[];
  skipped: { rel: string; why: string }[];
}

/**
 * Walks a directory synchronously (faster than promises for many small files), without following
 * symlinks, into one object per entry. Nested `.git` folders and files (and names git takes for
 * `.git`) are skipped: they belong to another repository. The walk itself is {@link walkTree}.
 */
export function scanTree(absRoot: string): ScanResult {
  const walked = walkTree(absRoot);
  const entries: Scanned[] = [];
  for (let i = 0; i < walked.count; i++) {
    const rel = walked.rel(i);
    const kind = walked.kind(i);
    if (kind === WALK_FILE) entries.push({ kind: 'file', rel, stat: walked.statAt(i) });
    else if (kind === WALK_LINK) entries.push({ kind: 'link', rel, target: walked.targets.get(i)! });
    else entries.push({ kind: 'emptydir', rel });
  }
  return { entries, skipped: walked.skipped };
}

/** Entry kinds of a {@link WalkedTree}. */
export const WALK_FILE = 0;
export const WALK_LINK = 1;
export const WALK_EMPTY_DIR = 2;

/** Stat fields kept per entry of a {@link WalkedTree}, in this order. */
const STAT_FIELDS = 7;

/**
 * A directory walk held in columns: its paths as UTF-8 bytes in one buffer, and seven numbers per entry,
 * instead of several objects (or even one string) per entry. A walk of a million files then stays
 * small and, when the directory turns out unchanged, leaves the garbage collector nothing to trace.
 * Entries are in manifest order (UTF-8 bytes of the path).
 */
export class WalkedTree {
  /** Link targets by entry number. */
  readonly targets = new Map<number, string>();
  readonly skipped: { rel: string; why: string }[] = [];
  private n = 0;
  private names = Buffer.alloc(1 << 16);
  /** Where each entry's path starts in `names`; entry i ends where i + 1 starts. */
  private starts = new Uint32Array(1024);
  private kindOf = new Uint8Array(1024);
  private stats = new Float64Array(1024 * STAT_FIELDS);
  /** Paths decoded as strings, made on first use (only when entries are looked at one by one). */
  private decoded: string[] | undefined;

  get count(): number {
    return this.n;
  }

  kind(i: number): number {
    return this.kindOf[i]!;
  }

  rel(i: number): string {
    this.decoded ??= Array.from({ length: this.n }, (_, k) => this.names.toString('utf8', this.starts[k]!, this.starts[k + 1]!));
    return this.decoded[i]!;
  }

  /** The `FileStat` of entry `i` (a file), as a new object. */
  statAt(i: number): FileStat {
    return this.statInto(i, {} as FileStat);
  }

  /** Fills `out` with entry `i`'s stat: no object per entry on the paths every file takes. */
  statInto(i: number, out: FileStat): FileStat {
    const s = this.stats;
    const at = i * STAT_FIELDS;
    out.size = s[at]!;
    out.mtimeMs = s[at + 1]!;
    out.ctimeMs = s[at + 2]!;
    out.ino = s[at + 3]!;
    out.mode = s[at + 4]!;
    out.nlink = s[at + 5]!;
    out.dev = s[at + 6]!;
    return out;
  }

  sizeAt(i: number): number {
    return this.stats[i * STAT_FIELDS]!;
  }

  /** Every entry's kind, path bytes, path boundaries and stat, as raw bytes: what a fingerprint hashes. */
  columns(): Uint8Array[] {
    const n = this.n;
    return [
      this.kindOf.subarray(0, n),
      this.names.subarray(0, this.starts[n]),
      new Uint8Array(this.starts.buffer, 0, (n + 1) * 4),
      new Uint8Array(this.stats.buffer, 0, n * STAT_FIELDS * 8),
    ];
  }

  push(kind: number, rel: string, st?: FileStat): number {
    const i = this.n;
    this.grow(i + 2, rel.length * 3); // at most three UTF-8 bytes per UTF-16 unit
    this.starts[i + 1] = this.starts[i]! + this.names.write(rel, this.starts[i]!, 'utf8');
    this.kindOf[i] = kind;
    if (st) {
      const at = i * STAT_FIELDS;
      const s = this.stats;
      s[at] = st.size;
      s[at + 1] = st.mtimeMs;
      s[at + 2] = st.ctimeMs;
      s[at + 3] = st.ino;
      s[at + 4] = st.mode;
      s[at + 5] = st.nlink;
      s[at + 6] = st.dev;
    }
    this.n++;
    this.decoded = undefined;
    return i;
  }

  /** Puts the entries in manifest order if the walk did not already (only empty folders can upset it). */
  sort(): void {
    let sorted = true;
    for (let i = 1; i < this.n && sorted; i++) sorted = this.compareBytes(i - 1, i) < 0;
    if (sorted) return;
    const rels = Array.from({ length: this.n }, (_, i) => this.rel(i));
    const order = rels.map((_, i) => i).sort((a, b) => compareUtf8(rels[a]!, rels[b]!));
    const kinds = this.kindOf.slice();
    const stats = this.stats.slice();
    const targets = new Map(this.targets);
    this.n = 0;
    this.targets.clear();
    for (const from of order) {
      const to = this.push(kinds[from]!, rels[from]!);
      this.stats.set(stats.subarray(from * STAT_FIELDS, (from + 1) * STAT_FIELDS), to * STAT_FIELDS);
      const t = targets.get(from);
      if (t !== undefined) this.targets.set(to, t);
    }
  }

  private compareBytes(a: number, b: number): number {
    const s = this.starts;
    return this.names.compare(this.names, s[b]!, s[b + 1]!, s[a]!, s[a + 1]!);
  }

  /** Room for `entries` entries and `bytes` more path bytes. */
  private grow(entries: number, bytes: number): void {
    if (entries > this.kindOf.length) {
      const size = Math.max(entries, this.kindOf.length * 2);
      const starts = new Uint32Array(size);
      starts.set(this.starts);
      this.starts = starts;
      const kinds = new Uint8Array(size);
      kinds.set(this.kindOf);
      this.kindOf = kinds;
      const stats = new Float64Array(size * STAT_FIELDS);
      stats.set(this.stats);
      this.stats = stats;
    }
    const used = this.starts[this.n]!;
    if (used + bytes > this.names.length) {
      const names = Buffer.alloc(Math.max(this.names.length * 2, used + bytes));
      this.names.copy(names, 0, 0, used);
      this.names = names;
    }
  }
}

/** One folder of a walk: its sorted names (less those skipped) and, once stat'ed, their numbers. */
interface Listing {
  absDir: string;
  relDir: string;
  names: string[];
  stats: Float64Array;
  /** Nothing at all inside (a folder holding only a nested `.git` is not empty: it is skipped). */
  empty: boolean;
}

/** Paths stat'ed in one call of {@link lstatNames}: bounds the path strings alive at once. */
const STAT_BATCH = 1 << 16;

/**
 * Walks a directory as {@link scanTree} does (same entries, same skips), into columns. Names are read
 * as plain strings and sorted natively, and one lstat per name says what it is: no object per entry.
 * The folders of one depth are listed first and all their names stat'ed together, in batches shared
 * with a second thread when there are at least `parallelMin` ({@link lstatNames}): a tree of many
 * small folders gains from it as much as one large folder does. The entries are then laid out depth
 * first, in manifest order. (`batchSize` is a parameter for tests.)
 */
export function walkTree(absRoot: string, parallelMin = PARALLEL_LSTAT_MIN, batchSize = STAT_BATCH): WalkedTree {
  const out = new WalkedTree();
  const listings = new Map<string, Listing>();
  for (let level = [{ absDir: absRoot, relDir: '' }]; level.length > 0; ) {
    const listed = level.map(({ absDir, relDir }) => listFolder(out, absDir, relDir));
    statListings(listed, parallelMin, batchSize);
    level = [];
    for (const l of listed) {
      listings.set(l.relDir, l);
      for (let i = 0; i < l.names.length; i++) {
        if ((l.stats[i * LSTAT_FIELDS]! & fs.constants.S_IFMT) === fs.constants.S_IFDIR) level.push({ absDir: `${l.absDir}${path.sep}${l.names[i]}`, relDir: joinRel(l.relDir, l.names[i]!) });
      }
    }
  }
  const st = {} as FileStat;
  const lay = (l: Listing) => {
    if (l.empty) return void out.push(WALK_EMPTY_DIR, l.relDir);
    for (let i = 0; i < l.names.length; i++) {
      const rel = joinRel(l.relDir, l.names[i]!);
      const at = i * LSTAT_FIELDS;
      const type = l.stats[at]! & fs.constants.S_IFMT;
      if (type === fs.constants.S_IFDIR) lay(listings.get(rel)!);
      else if (type === fs.constants.S_IFREG) out.push(WALK_FILE, rel, statFrom(l.stats, at, st));
      else if (type === fs.constants.S_IFLNK) out.targets.set(out.push(WALK_LINK, rel), fs.readlinkSync(`${l.absDir}${path.sep}${l.names[i]}`));
      else out.skipped.push({ rel, why: 'not a regular file, directory or symlink' });
    }
  };
  lay(listings.get('')!);
  out.sort();
  return out;
}

const joinRel = (relDir: string, name: string) => (relDir === '' ? name : `${relDir}/${name}`);

/** Lists one folder: its names sorted, nested repositories skipped (and said so). */
function listFolder(out: WalkedTree, absDir: string, relDir: string): Listing {
  const all = fs.readdirSync(absDir);
  all.sort();
  const names: string[] = [];
  for (const name of all) {
    if (!isDotName(name, 'git')) {
      names.push(name);
      continue;
    }
    // A nested repository (a folder, or a submodule's `.git` file), or a name git takes for one:
    // no manifest may hold it (spec/paths.md).
    out.skipped.push({ rel: joinRel(relDir, name), why: name === '.git' ? 'nested git repository' : 'a name git treats as .git' });
  }
  return { absDir, relDir, names, stats: new Float64Array(0), empty: all.length === 0 && relDir !== '' };
}

/** Fills every listing's `stats`, stat'ing the names of all of them in batches of `batchSize`. */
function statListings(listed: Listing[], parallelMin: number, batchSize: number): void {
  let batch: string[] = [];
  let parts: { l: Listing; from: number }[] = [];
  const flush = () => {
    if (batch.length === 0) return;
    const stats = lstatNames('', batch, parallelMin);
    for (let i = 0; i < batch.length; i++) {
      // Not stat'ed (gone since the listing, or an error on the helper thread): again here, which
      // throws the error a walk reports, or gives the stat of what is there now.
      if (stats[i * LSTAT_FIELDS] === -1) setStat(stats, i * LSTAT_FIELDS, fs.lstatSync(batch[i]!));
    }
    let at = 0;
    for (const { l, from } of parts) {
      const n = Math.min(l.names.length - from, stats.length / LSTAT_FIELDS - at);
      l.stats.set(stats.subarray(at * LSTAT_FIELDS, (at + n) * LSTAT_FIELDS), from * LSTAT_FIELDS);
      at += n;
    }
    batch = [];
    parts = [];
  };
  for (const l of listed) {
    l.stats = new Float64Array(l.names.length * LSTAT_FIELDS);
    const prefix = `${l.absDir}${path.sep}`;
    for (let i = 0; i < l.names.length; i++) {
      if (i === 0 || batch.length === 0) parts.push({ l, from: i });
      batch.push(prefix + l.names[i]);
      if (batch.length === batchSize) flush();
    }
  }
  flush();
}

/** Writes a stat into {@link lstatNames}' numbers at `at`. */
function setStat(stats: Float64Array, at: number, st: FileStat): void {
  stats[at] = st.mode;
  stats[at + 1] = st.size;
  stats[at + 2] = st.mtimeMs;
  stats[at + 3] = st.ctimeMs;
  stats[at + 4] = st.ino;
  stats[at + 5] = st.nlink;
  stats[at + 6] = st.dev;
}

/** Entry `at` of {@link lstatNames}' numbers as a `FileStat`, written into `st`. */
function statFrom(stats: Float64Array, at: number, st: FileStat): FileStat {
  st.mode = stats[at]!;
  st.size = stats[at + 1]!;
  st.mtimeMs = stats[at + 2]!;
  st.ctimeMs = stats[at + 3]!;
  st.ino = stats[at + 4]!;
  st.nlink = stats[at + 5]!;
  st.dev = stats[at + 6]!;
  return st;
}
