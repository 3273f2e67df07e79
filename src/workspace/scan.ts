import fs from 'node:fs';
import path from 'node:path';
import { compareByteRanges } from '../util/bytes.js';
import { compareUtf8, isDotName } from '../util/paths.js';
import { ignoredByDefault, IgnoreRules } from './mlxignore.js';
import { lstatInto } from '../util/lstat-fields.js';

const { S_IFMT, S_IFDIR, S_IFREG, S_IFLNK } = fs.constants;

/** Where a walked directory lies in the repository, for its ignore rules (`.mlxignore`). */
export interface WalkScope {
  /** The repository root. */
  root: string;
  /** The walked directory, repository-relative ('' when the walk is of the root itself). */
  rel: string;
  /**
   * Whether to keep an ignored entry all the same (`rel` relative to the walked directory): checkout
   * must see a file its manifest names even where a rule now ignores it, or it would overwrite it
   * unseen. Asked only about ignored entries, and inside an ignored folder about every entry.
   */
  keepIgnored?: (rel: string, isDir: boolean) => boolean;
}

function joinRel(dir: string, name: string): string {
  return dir === '' ? name : name === '' ? dir : `${dir}/${name}`;
}

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
 * `.git`) are skipped: they belong to another repository; so is what the ignore rules of `scope`
 * ignore. The walk itself is {@link walkTree}.
 */
export function scanTree(absRoot: string, scope: WalkScope): ScanResult {
  const walked = walkTree(absRoot, scope);
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

/** What a link or an empty folder has in a walk's stat columns. */
const NO_STAT: FileStat = { size: 0, mtimeMs: 0, ctimeMs: 0, ino: 0, mode: 0, nlink: 0, dev: 0 };

/** Stat fields kept per entry of {@link StatColumns}, in this order. */
const STAT_FIELDS = 7;

/**
 * `FileStat`s by entry number, seven numbers each in one growing array: a million stats are 56 MB here,
 * against about 190 MB as objects (each number a separate heap box) and 800 MB as `fs.Stats`.
 */
export class StatColumns {
  private stats = new Float64Array(1024 * STAT_FIELDS);

  set(i: number, st: FileStat): void {
    const need = (i + 1) * STAT_FIELDS;
    if (need > this.stats.length) {
      const grown = new Float64Array(Math.max(need, this.stats.length * 2));
      grown.set(this.stats);
      this.stats = grown;
    }
    const s = this.stats;
    const at = i * STAT_FIELDS;
    s[at] = st.size;
    s[at + 1] = st.mtimeMs;
    s[at + 2] = st.ctimeMs;
    s[at + 3] = st.ino;
    s[at + 4] = st.mode;
    s[at + 5] = st.nlink;
    s[at + 6] = st.dev;
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

  mtimeAt(i: number): number {
    return this.stats[i * STAT_FIELDS + 1]!;
  }

  /** The first `count` entries' numbers as raw bytes. */
  bytes(count: number): Uint8Array {
    return new Uint8Array(this.stats.buffer, 0, count * STAT_FIELDS * 8);
  }

  /** Entry `from` of `other` copied to entry `to` here. */
  copyFrom(other: StatColumns, from: number, to: number): void {
    this.set(to, other.statInto(from, {} as FileStat));
  }
}

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
  /** The `.mlxignore` texts the walk applied (with their folders), empty when there were none. */
  ignoreRules = '';
  private n = 0;
  private names = Buffer.alloc(1 << 16);
  /** Where each entry's path starts in `names`; entry i ends where i + 1 starts. */
  private starts = new Uint32Array(1024);
  private kindOf = new Uint8Array(1024);
  private stats = new StatColumns();
  /** Paths decoded as strings, each made on first use (only when entries are looked at one by one). */
  private decoded: string[] | undefined;

  get count(): number {
    return this.n;
  }

  kind(i: number): number {
    return this.kindOf[i]!;
  }

  /** Entry `i`'s path, decoded once and kept. */
  rel(i: number): string {
    this.decoded ??= new Array<string>(this.n);
    return (this.decoded[i] ??= this.pathOf(i));
  }

  /**
   * Entry `i`'s path, decoded anew and not kept: for a pass that looks at every entry once, whose
   * strings then die young instead of living (and being copied by the collector) as long as the walk.
   */
  pathOf(i: number): string {
    return this.names.toString('utf8', this.starts[i]!, this.starts[i + 1]!);
  }

  /** The UTF-8 bytes every path is kept in: entry i's are those from relStart(i) to relStart(i + 1). */
  get pathBytes(): Buffer {
    return this.names;
  }

  relStart(i: number): number {
    return this.starts[i]!;
  }

  /** The `FileStat` of entry `i` (a file), as a new object. */
  statAt(i: number): FileStat {
    return this.statInto(i, {} as FileStat);
  }

  /** Fills `out` with entry `i`'s stat: no object per entry on the paths every file takes. */
  statInto(i: number, out: FileStat): FileStat {
    return this.stats.statInto(i, out);
  }

  sizeAt(i: number): number {
    return this.stats.sizeAt(i);
  }

  /** Every entry's kind, path bytes, path boundaries and stat, as raw bytes: what a fingerprint hashes. */
  columns(): Uint8Array[] {
    const n = this.n;
    return [
      this.kindOf.subarray(0, n),
      this.names.subarray(0, this.starts[n]),
      new Uint8Array(this.starts.buffer, 0, (n + 1) * 4),
      this.stats.bytes(n),
    ];
  }

  push(kind: number, rel: string, st?: FileStat): number {
    const i = this.n;
    this.grow(i + 2, rel.length * 3); // at most three UTF-8 bytes per UTF-16 unit
    this.starts[i + 1] = this.starts[i]! + writeUtf8(this.names, rel, this.starts[i]!);
    this.kindOf[i] = kind;
    this.stats.set(i, st ?? NO_STAT);
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
    const stats = this.stats;
    this.stats = new StatColumns();
    const targets = new Map(this.targets);
    this.n = 0;
    this.targets.clear();
    for (const from of order) {
      const to = this.push(kinds[from]!, rels[from]!);
      this.stats.copyFrom(stats, from, to);
      const t = targets.get(from);
      if (t !== undefined) this.targets.set(to, t);
    }
  }

  private compareBytes(a: number, b: number): number {
    const s = this.starts;
    return compareByteRanges(this.names, s[a]!, s[a + 1]!, this.names, s[b]!, s[b + 1]!);
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
    }
    const used = this.starts[this.n]!;
    if (used + bytes > this.names.length) {
      const names = Buffer.alloc(Math.max(this.names.length * 2, used + bytes));
      this.names.copy(names, 0, 0, used);
      this.names = names;
    }
  }
}

/**
 * Writes `text` as UTF-8 into `out` at `at`, returning the bytes written. Paths are short and mostly
 * ASCII: a loop copies those faster than a native `Buffer.write` call per path.
 */
function writeUtf8(out: Buffer, text: string, at: number): number {
  const n = text.length;
  for (let k = 0; k < n; k++) {
    const c = text.charCodeAt(k);
    if (c >= 0x80) return out.write(text, at, 'utf8');
    out[at + k] = c;
  }
  return n;
}

/**
 * Walks a directory as {@link scanTree} does (same entries, same skips), into columns. Names are read
 * as plain strings and sorted natively, and one lstat per name says what it is: no object per entry.
 * That order is the manifest's almost always; {@link WalkedTree.sort} mends the rare exceptions.
 * Ignored entries are left out, and ignored folders not entered; with no `.mlxignore` in force the
 * built-in defaults cost one look at each name.
 */
export function walkTree(absRoot: string, scope: WalkScope): WalkedTree {
  const out = new WalkedTree();
  const seen = new Set<string>();
  /** One stat record, refilled for every name (what is kept goes into the walk's columns). */
  const st = {} as FileStat;
  /** `inIgnored`: the folder is ignored itself (entered only for what `keepIgnored` keeps). */
  const walk = (absDir: string, relDir: string, above: IgnoreRules, inIgnored: boolean) => {
    const names = fs.readdirSync(absDir);
    if (names.length === 0 && relDir !== '') {
      out.push(WALK_EMPTY_DIR, relDir);
      return;
    }
    names.sort();
    const repoDir = joinRel(scope.rel, relDir);
    const rules = above.enter(repoDir, names);
    if (rules.identity !== '' && !seen.has(rules.identity)) {
      seen.add(rules.identity);
      out.ignoreRules += rules.identity;
    }
    const withFiles = rules.hasFiles;
    for (const name of names) {
      const rel = relDir === '' ? name : `${relDir}/${name}`;
      if (isDotName(name, 'git')) {
        // A nested repository (a folder, or a submodule's `.git` file), or a name git takes for one:
        // no manifest may hold it (spec/paths.md).
        out.skipped.push({ rel, why: name === '.git' ? 'nested git repository' : 'a name git treats as .git' });
        continue;
      }
      const abs = `${absDir}${path.sep}${name}`;
      const type = lstatInto(abs, st).mode & S_IFMT;
      const isDir = type === S_IFDIR;
      const ignored = inIgnored || (withFiles ? rules.ignores(joinRel(repoDir, name), name, isDir) : ignoredByDefault(name, isDir));
      if (ignored && !scope.keepIgnored?.(rel, isDir)) continue;
      if (isDir) walk(abs, rel, rules, ignored);
      else if (type === S_IFREG) out.push(WALK_FILE, rel, st);
      else if (type === S_IFLNK) out.targets.set(out.push(WALK_LINK, rel), fs.readlinkSync(abs));
      else out.skipped.push({ rel, why: 'not a regular file, directory or symlink' });
    }
  };
  walk(absRoot, '', IgnoreRules.above(scope.root, scope.rel), false);
  out.sort();
  return out;
}
