import fs from 'node:fs';
import path from 'node:path';
import { type Oid, oidFromHex } from '../hash/oid.js';
import { hashFileSync } from '../hash/hash-file.js';
import type { FileEntry, ManifestEntry } from '../formats/manifest.js';
import { badPath, badState, isErrno } from '../util/errors.js';
import { lstatIfExists } from '../util/fs.js';
import { fileStat, walkTree, WALK_FILE, WALK_LINK, type FileStat, type WalkedTree } from './scan.js';
import { damagedLinkTarget, quarantineLinked, type DamagedObject } from './linked-damage.js';
import { isTrusted, type StatIndex } from './stat-index.js';
import { absPath, type Repo } from './repo.js';
import type { Progress } from '../util/progress.js';

export type { Progress, ProgressDelta } from '../util/progress.js';

export type WorkTree =
  | { kind: 'missing' }
  | { kind: 'file'; oid: Oid; size: number; x: boolean }
  /** A directory read entry by entry. `fp` is set when every oid in it was trusted (see recordTree). */
  | { kind: 'dir'; entries: ManifestEntry[]; skipped: { rel: string; why: string }[]; fp?: string }
  /** A directory whose stats are exactly those it had when it gave manifest `oid` (= `expectOid`). */
  | { kind: 'dir-unchanged'; oid: Oid };

export interface WorkTreeStats {
  hashedFiles: number;
  hashedBytes: number;
}

export interface ReadOptions {
  /** `store` copies new content into the cache (add); `hash` only computes oids (status, checkout). */
  mode: 'store' | 'hash';
  /** Whether a file's oid is known to be in the store, to skip its presence check (asked only when needed). */
  knownPresent?: () => { has(key: string, oid: Oid): boolean };
  /**
   * The entry the version being compared with records for a file (its path relative to the path read).
   * An unchanged file is given this very entry, and a remembered oid equal to its oid this very string:
   * a large tree with few changes then makes no new entry and no new oid string per file.
   */
  recorded?: (key: string) => FileEntry | undefined;
  /** The manifest oid the caller expects; an unchanged directory then costs one stat per entry. */
  expectOid?: Oid;
  /** A likely oid for a file whose stat changed (e.g. touched): confirmed by hashing, no copy needed. */
  candidate?: (key: string) => Oid | undefined;
  /**
   * The executable bit recorded for a file, used where the work tree cannot show it: a file that is
   * the read-only cache object itself (hardlink and symlink caches).
   */
  recordedX?: (key: string) => boolean | undefined;
  progress?: Progress;
  stats?: WorkTreeStats;
  /** Called for a cache object found changed through a linked work-tree file (it is quarantined). */
  onDamaged?: (d: DamagedObject) => void;
}

/** Files at least this large are hashed before copying when a candidate oid is already stored. */
const CONFIRM_BEFORE_COPY = 1 << 20;

/**
 * Reads what the work tree holds at a tracked path: the oid of every file, using the stat index so
 * unchanged files are not read. With mode `store`, new content lands in the cache on the way.
 */
export function readWorkTree(repo: Repo, index: StatIndex, rel: string, opts: ReadOptions): WorkTree {
  const abs = absPath(repo, rel);
  const st = lstatIfExists(abs);
  if (!st) return { kind: 'missing' };
  // A symlink into the cache (cache.type symlink) stands for its file: read through it like one.
  const throughLink = st.isSymbolicLink() && cacheLinkOid(repo, abs) ? fs.statSync(abs) : undefined;
  if (st.isFile() || throughLink) {
    opts.progress?.({ phase: `hashing ${rel}`, totalFiles: 1, totalBytes: (throughLink ?? st).size });
    const { entries } = fileEntries(repo, index, new OneFile({ key: rel, abs, rel, stat: fileStat(throughLink ?? st), linked: !!throughLink }), opts);
    const entry = entries[0]!;
    return { kind: 'file', oid: entry.o, size: entry.s, x: entry.x };
  }
  if (st.isDirectory()) {
    opts.progress?.({ phase: `scanning ${rel}` });
    const walked = walkTree(abs, { root: repo.root, rel });
    const fp = fingerprint(repo, abs, walked);
    const known = index.treeOid(rel, fp);
    if (opts.expectOid && known === opts.expectOid) return { kind: 'dir-unchanged', oid: known };
    return readWalkedDir(repo, index, rel, walked, fp, opts);
  }
  throw badPath(`${rel} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file or directory'}; track its target instead`, { path: rel });
}

/** The entries of a directory walked into `walked` (stat fingerprint `fp`), each file's oid read as {@link readWorkTree} reads it. */
export function readWalkedDir(repo: Repo, index: StatIndex, rel: string, walked: WalkedTree, fp: string, opts: ReadOptions): WorkTree {
  const files = new DirFiles(repo, rel, walked);
  const entries: ManifestEntry[] = [];
  opts.progress?.({ phase: `hashing ${rel}`, totalFiles: files.count, totalBytes: files.totalBytes() });
  const read = fileEntries(repo, index, files, opts);
  // Both lists are in manifest order; merging keeps the result in it.
  let f = 0;
  for (let i = 0; i < walked.count; i++) {
    if (files.isFile(i)) {
      entries.push(read.entries[f++]!);
      continue;
    }
    const r = walked.rel(i);
    if (walked.kind(i) === WALK_LINK) entries.push({ p: r, t: 'l', l: walked.targets.get(i)! });
    else entries.push({ p: r, t: 'd' });
  }
  return { kind: 'dir', entries, skipped: walked.skipped, fp: read.allTrusted ? fp : undefined };
}

/**
 * One hash over every entry's kind and path, its stat (size, mtime, ctime, inode, mode, links, device)
 * a link's target and the `.mlxignore` rules the walk applied: equal fingerprints mean no entry was
 * added, removed, replaced or touched since, and none came or went by a change of the ignore rules.
 * The walk's columns go in as raw bytes: a million entries cost one pass, no string and no formatting.
 */
export function fingerprint(repo: Repo, rootAbs: string, walked: WalkedTree): string {
  const h = repo.newHasher();
  for (const column of walked.columns()) h.update(column);
  // What the walk left out follows from the rules: other rules, another tree.
  if (walked.ignoreRules !== '') h.update(Buffer.from(`i\0${walked.ignoreRules}\n`));
  // A link into the cache changes when its target does (an edit through it), not only when re-aimed.
  for (const [i, target] of walked.targets) {
    const targetAbs = path.resolve(path.dirname(path.join(rootAbs, walked.rel(i))), target);
    const intoCache = targetAbs.startsWith(repo.store.objectsDir + path.sep);
    const st = intoCache ? fs.statSync(targetAbs, { throwIfNoEntry: false }) : undefined;
    h.update(Buffer.from(`l\0${i}\0${target}${intoCache ? `\0${st ? `${st.size}\0${st.mtimeMs}\0${st.ctimeMs}\0${st.ino}\0${st.mode}` : ''}` : ''}\n`));
  }
  return h.digestHex();
}

/** The oid a work tree symlink points at when its target is a cache object, else undefined. */
export function cacheLinkOid(repo: Repo, abs: string): Oid | undefined {
  const target = path.resolve(path.dirname(abs), fs.readlinkSync(abs));
  const rel = path.relative(repo.store.objectsDir, target);
  const m = /^([0-9a-f]{2})[\\/]([0-9a-f]{62})$/.exec(rel);
  return m && fs.existsSync(target) ? oidFromHex(`${m[1]}${m[2]}`) : undefined;
}

export interface PendingFile {
  key: string;
  abs: string;
  rel: string;
  /** The file's stat (for a symlink into the cache: its target's). */
  stat: FileStat;
  /** A symlink into the cache. */
  linked?: boolean;
}

/** Files read by number: a directory's (from its walk, no object per file) or a single file. */
export interface FileList {
  readonly count: number;
  key(j: number): string;
  rel(j: number): string;
  /** Fills `out` with file `j`'s stat (for a symlink into the cache: its target's); no allocation. */
  statInto(j: number, out: FileStat): FileStat;
  /** Whether file `j` is a symlink into the cache standing for its object. */
  isLinked(j: number): boolean;
  /** File `j` with everything the slow paths need (hashing, damage checks). */
  file(j: number): PendingFile;
}

/** The files of a walked directory, and the symlinks into the cache that stand for files there. */
export class DirFiles implements FileList {
  /** Walk entry number of each file. */
  private readonly walkIndex: number[] = [];
  private readonly fileAt: Uint8Array;
  /** Stats of the cache objects that symlinks point at, by walk entry number. */
  private readonly linkedStats = new Map<number, FileStat>();

  constructor(private readonly repo: Repo, private readonly dir: string, private readonly walked: WalkedTree) {
    this.fileAt = new Uint8Array(walked.count);
    for (let i = 0; i < walked.count; i++) {
      const kind = walked.kind(i);
      if (kind === WALK_LINK) {
        const linkAbs = absPath(repo, `${dir}/${walked.rel(i)}`);
        // A symlink into the cache is how `cache.type symlink` checks files out: it stands for that file.
        if (!cacheLinkOid(repo, linkAbs)) continue;
        this.linkedStats.set(i, fileStat(fs.statSync(linkAbs)));
      } else if (kind !== WALK_FILE) continue;
      this.fileAt[i] = 1;
      this.walkIndex.push(i);
    }
  }

  get count(): number {
    return this.walkIndex.length;
  }

  isFile(walkEntry: number): boolean {
    return this.fileAt[walkEntry] === 1;
  }

  key(j: number): string {
    return `${this.dir}/${this.walked.rel(this.walkIndex[j]!)}`;
  }

  rel(j: number): string {
    return this.walked.rel(this.walkIndex[j]!);
  }

  statInto(j: number, out: FileStat): FileStat {
    const i = this.walkIndex[j]!;
    const linked = this.linkedStats.get(i);
    return linked ? Object.assign(out, linked) : this.walked.statInto(i, out);
  }

  file(j: number): PendingFile {
    const i = this.walkIndex[j]!;
    const key = this.key(j);
    const linked = this.linkedStats.get(i);
    return { key, abs: absPath(this.repo, key), rel: this.walked.rel(i), stat: linked ?? this.walked.statAt(i), linked: !!linked };
  }

  isLinked(j: number): boolean {
    return this.linkedStats.has(this.walkIndex[j]!);
  }

  totalBytes(): number {
    let n = 0;
    for (let j = 0; j < this.walkIndex.length; j++) {
      const i = this.walkIndex[j]!;
      n += this.linkedStats.get(i)?.size ?? this.walked.sizeAt(i);
    }
    return n;
  }
}

/** One file, read as a list of one. */
class OneFile implements FileList {
  readonly count = 1;
  constructor(private readonly f: PendingFile) {}
  key(): string {
    return this.f.key;
  }
  rel(): string {
    return this.f.rel;
  }
  statInto(_j: number, out: FileStat): FileStat {
    return Object.assign(out, this.f.stat);
  }
  isLinked(): boolean {
    return !!this.f.linked;
  }
  file(): PendingFile {
    return this.f;
  }
}

/**
 * A file that is the cache object itself (a symlink into the cache, or a read-only hard link to its
 * object) cannot carry its own executable bit: the recorded one stands.
 */
function executable(repo: Repo, files: FileList, j: number, st: FileStat, linked: boolean, oid: Oid, opts: ReadOptions): boolean {
  const mode = (st.mode & 0o111) !== 0;
  let isObject = linked;
  if (!isObject && st.nlink > 1 && (st.mode & 0o222) === 0) {
    try {
      isObject = fs.statSync(repo.store.pathOf(oid)).ino === st.ino;
    } catch (err) {
      if (!isErrno(err, 'ENOENT', 'ENOTDIR')) throw err;
      isObject = false; // no such object in the cache: the file is not a link to it
    }
  }
  return isObject ? opts.recordedX?.(files.key(j)) ?? false : mode;
}

export function fileEntries(repo: Repo, index: StatIndex, files: FileList, opts: ReadOptions): { entries: FileEntry[]; allTrusted: boolean } {
  const known = new Array<Oid | undefined>(files.count);
  const recorded = opts.recorded ? new Array<FileEntry | undefined>(files.count) : undefined;
  const toCheck: Oid[] = [];
  const present = opts.mode === 'store' && files.count > 0 ? opts.knownPresent?.() : undefined;
  const st = {} as FileStat;
  for (let j = 0; j < files.count; j++) {
    const key = files.key(j);
    const r = opts.recorded?.(key);
    if (recorded) recorded[j] = r;
    const oid = index.lookup(key, files.statInto(j, st), r?.o);
    known[j] = oid;
    if (oid && opts.mode === 'store' && !present?.has(key, oid)) toCheck.push(oid);
  }
  // Trusted stat but object gone (cache cleared or shared cache pruned): read the file again.
  const absent = opts.mode === 'store' && toCheck.length > 0 ? repo.store.missing(toCheck) : new Set<Oid>();
  const out: FileEntry[] = [];
  let allTrusted = true;
  for (let j = 0; j < files.count; j++) {
    let oid = known[j];
    let linked = false;
    files.statInto(j, st);
    if (!oid || absent.has(oid)) {
      const f = files.file(j);
      linked = !!f.linked;
      oid = hashOrImport(repo, f, opts);
      // A changed file that is itself a cache object (hard link, symlink) changed that object.
      if (f.linked || f.stat.nlink > 1) {
        const damaged = damagedLinkTarget(repo, f, oid, [index.candidate(f.key), opts.candidate?.(f.key)]);
        if (damaged) {
          const d = quarantineLinked(repo, f, damaged, oid);
          opts.onDamaged?.(d);
        }
      }
      const hashedAt = Date.now();
      index.record(f.key, f.stat, oid, hashedAt);
      if (!isTrusted({ mtimeMs: f.stat.mtimeMs, hashedAt })) allTrusted = false;
      if (opts.stats) {
        opts.stats.hashedFiles++;
        opts.stats.hashedBytes += f.stat.size;
      }
    } else {
      linked = files.isLinked(j);
      opts.progress?.({ bytes: st.size });
    }
    opts.progress?.({ files: 1 });
    const x = executable(repo, files, j, st, linked, oid, opts);
    const r = recorded?.[j];
    out.push(r !== undefined && r.o === oid && r.s === st.size && r.x === x ? r : { p: files.rel(j), o: oid, s: st.size, x });
  }
  return { entries: out, allTrusted };
}

/**
 * The oid of file `key` (stat `stat`, not a symlink into the cache), hashed and recorded in the stat
 * index as {@link fileEntries} does it, with the same check that an edit through a hard link did not
 * change a cache object (`recordedOid`: what the version compared with records for it).
 * `trusted`: whether the new record can be trusted later (see isTrusted).
 */
export function hashStatChanged(repo: Repo, index: StatIndex, key: string, stat: FileStat, recordedOid: Oid, opts: ReadOptions): { oid: Oid; trusted: boolean } {
  const f: PendingFile = { key, abs: absPath(repo, key), rel: key, stat };
  const oid = hashOrImport(repo, f, opts);
  if (stat.nlink > 1) {
    const damaged = damagedLinkTarget(repo, f, oid, [index.candidate(key), recordedOid]);
    if (damaged) opts.onDamaged?.(quarantineLinked(repo, f, damaged, oid));
  }
  const hashedAt = Date.now();
  index.record(key, stat, oid, hashedAt);
  if (opts.stats) {
    opts.stats.hashedFiles++;
    opts.stats.hashedBytes += stat.size;
  }
  opts.progress?.({ files: 1 });
  return { oid, trusted: isTrusted({ mtimeMs: stat.mtimeMs, hashedAt }) };
}

function hashOrImport(repo: Repo, f: PendingFile, opts: ReadOptions): Oid {
  const onBytes = opts.progress ? (n: number) => opts.progress!({ bytes: n }) : undefined;
  let res: { oid: Oid; size: number } | undefined;
  if (opts.mode === 'store') {
    // A touched or re-indexed large file usually still holds stored content: confirm by hashing
    // (fast) instead of copying it into the cache again.
    const candidate = f.stat.size >= CONFIRM_BEFORE_COPY ? opts.candidate?.(f.key) : undefined;
    let counted = false;
    if (candidate && repo.store.has(candidate)) {
      const hashed = hashFileSync(repo.newHasher, f.abs, onBytes);
      counted = true;
      if (hashed.oid === candidate) res = hashed;
    }
    // Progress counts a file's bytes once, though one whose bytes changed is read a second time here.
    res ??= repo.store.importFile(f.abs, counted ? undefined : onBytes, f.stat.size);
  } else {
    res = hashFileSync(repo.newHasher, f.abs, onBytes);
  }
  const after = f.linked ? fs.statSync(f.abs) : fs.lstatSync(f.abs);
  if (res.size !== f.stat.size || after.size !== f.stat.size || after.mtimeMs !== f.stat.mtimeMs) {
    throw badState(`${f.key} changed while mlx was reading it`, { hint: 'wait for the program writing it to finish, then try again', path: f.key });
  }
  return res.oid;
}

