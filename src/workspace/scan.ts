import fs from 'node:fs';
import path from 'node:path';
import { compareUtf8, isDotName } from '../util/paths.js';

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
 * symlinks. Nested `.git` folders and files (and names git takes for `.git`) are skipped: they belong
 * to another repository.
 */
export function scanTree(absRoot: string): ScanResult {
  const entries: Scanned[] = [];
  const skipped: { rel: string; why: string }[] = [];
  const walk = (absDir: string, relDir: string) => {
    const names = fs.readdirSync(absDir, { withFileTypes: true });
    if (names.length === 0 && relDir !== '') {
      entries.push({ kind: 'emptydir', rel: relDir });
      return;
    }
    for (const d of names) {
      const rel = relDir === '' ? d.name : `${relDir}/${d.name}`;
      const abs = path.join(absDir, d.name);
      if (isDotName(d.name, 'git')) {
        // A nested repository (a folder, or a submodule's `.git` file), or a name git takes for one:
        // no manifest may hold it (spec/paths.md).
        skipped.push({ rel, why: d.name === '.git' ? 'nested git repository' : 'a name git treats as .git' });
        continue;
      }
      if (d.isDirectory()) {
        walk(abs, rel);
      } else if (d.isFile()) {
        entries.push({ kind: 'file', rel, stat: fileStat(fs.lstatSync(abs)) });
      } else if (d.isSymbolicLink()) {
        entries.push({ kind: 'link', rel, target: fs.readlinkSync(abs) });
      } else {
        skipped.push({ rel, why: 'not a regular file, directory or symlink' });
      }
    }
  };
  walk(absRoot, '');
  entries.sort((a, b) => compareUtf8(a.rel, b.rel));
  return { entries, skipped };
}

/** Entry kinds of a {@link WalkedTree}. */
export const WALK_FILE = 0;
export const WALK_LINK = 1;
export const WALK_EMPTY_DIR = 2;

/** Stat fields kept per entry of a {@link WalkedTree}, in this order. */
const STAT_FIELDS = 7;

/**
 * A directory walk held in columns: one path string and seven numbers per entry instead of several
 * objects, so a walk of a million files stays small and costs the garbage collector little.
 * Entries are in manifest order (UTF-8 bytes of the path).
 */
export class WalkedTree {
  readonly rels: string[] = [];
  readonly kinds: number[] = [];
  /** Link targets by entry number. */
  readonly targets = new Map<number, string>();
  readonly skipped: { rel: string; why: string }[] = [];
  private stats = new Float64Array(1024 * STAT_FIELDS);

  get count(): number {
    return this.rels.length;
  }

  /** The `FileStat` of entry `i` (a file), as a new object. */
  statAt(i: number): FileStat {
    const s = this.stats;
    const at = i * STAT_FIELDS;
    return { size: s[at]!, mtimeMs: s[at + 1]!, ctimeMs: s[at + 2]!, ino: s[at + 3]!, mode: s[at + 4]!, nlink: s[at + 5]!, dev: s[at + 6]! };
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

  /** The stats of every entry as raw bytes (seven float64 each, zero for links and folders): for fingerprints. */
  statBytes(): Uint8Array {
    return new Uint8Array(this.stats.buffer, 0, this.count * STAT_FIELDS * 8);
  }

  push(kind: number, rel: string, st?: FileStat): number {
    const i = this.rels.length;
    this.rels.push(rel);
    this.kinds.push(kind);
    if (st) {
      if ((i + 1) * STAT_FIELDS > this.stats.length) {
        const grown = new Float64Array(this.stats.length * 2);
        grown.set(this.stats);
        this.stats = grown;
      }
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
    return i;
  }

  /** Puts the entries in manifest order if the walk did not already (only empty folders can upset it). */
  sort(): void {
    let sorted = true;
    for (let i = 1; i < this.rels.length && sorted; i++) sorted = compareUtf8(this.rels[i - 1]!, this.rels[i]!) < 0;
    if (sorted) return;
    const order = this.rels.map((_, i) => i).sort((a, b) => compareUtf8(this.rels[a]!, this.rels[b]!));
    const rels = order.map((i) => this.rels[i]!);
    const kinds = order.map((i) => this.kinds[i]!);
    const stats = new Float64Array(this.stats.length);
    const targets = new Map<number, string>();
    order.forEach((from, to) => {
      stats.set(this.stats.subarray(from * STAT_FIELDS, (from + 1) * STAT_FIELDS), to * STAT_FIELDS);
      const t = this.targets.get(from);
      if (t !== undefined) targets.set(to, t);
    });
    this.rels.length = 0;
    for (const r of rels) this.rels.push(r);
    this.kinds.length = 0;
    for (const k of kinds) this.kinds.push(k);
    this.stats = stats;
    this.targets.clear();
    for (const [k, v] of targets) this.targets.set(k, v);
  }
}

/**
 * Walks a directory as {@link scanTree} does (same entries, same skips), into columns. Names are read
 * as plain strings and sorted natively, and one lstat per name says what it is: no object per entry.
 * That order is the manifest's almost always; {@link WalkedTree.sort} mends the rare exceptions.
 */
export function walkTree(absRoot: string): WalkedTree {
  const out = new WalkedTree();
  const walk = (absDir: string, relDir: string) => {
    const names = fs.readdirSync(absDir);
    if (names.length === 0 && relDir !== '') {
      out.push(WALK_EMPTY_DIR, relDir);
      return;
    }
    names.sort();
    for (const name of names) {
      const rel = relDir === '' ? name : `${relDir}/${name}`;
      if (isDotName(name, 'git')) {
        out.skipped.push({ rel, why: name === '.git' ? 'nested git repository' : 'a name git treats as .git' });
        continue;
      }
      const abs = `${absDir}${path.sep}${name}`;
      const st = fs.lstatSync(abs);
      if (st.isDirectory()) walk(abs, rel);
      else if (st.isFile()) out.push(WALK_FILE, rel, st);
      else if (st.isSymbolicLink()) out.targets.set(out.push(WALK_LINK, rel), fs.readlinkSync(abs));
      else out.skipped.push({ rel, why: 'not a regular file, directory or symlink' });
    }
  };
  walk(absRoot, '');
  out.sort();
  return out;
}
