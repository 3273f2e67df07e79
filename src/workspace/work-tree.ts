import fs from 'node:fs';
import path from 'node:path';
import { type Oid, oidFromHex } from '../hash/oid.js';
import { hashFileSync } from '../hash/hash-file.js';
import type { FileEntry, ManifestEntry } from '../formats/manifest.js';
import { badPath, badState, isErrno } from '../util/errors.js';
import { lstatIfExists } from '../util/fs.js';
import { scanTree, type FileStat, type Scanned } from './scan.js';
import { damagedLinkTarget, quarantineLinked, type DamagedObject } from './linked-damage.js';
import { isTrusted, type StatIndex } from './stat-index.js';
import { absPath, type Repo } from './repo.js';
import { appendAll } from '../util/arrays.js';

/** Progress of long work, in files and bytes; the CLI renders it. */
export interface Progress {
  (delta: { files?: number; bytes?: number; totalFiles?: number; totalBytes?: number }): void;
}

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
  /** Oids already known to be in the store, to skip presence checks (asked only when needed). */
  knownPresent?: () => ReadonlySet<Oid>;
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
    const { entries } = fileEntries(repo, index, [{ key: rel, abs, rel, stat: throughLink ?? st, linked: !!throughLink }], opts);
    const entry = entries[0]!;
    return { kind: 'file', oid: entry.o, size: entry.s, x: entry.x };
  }
  if (st.isDirectory()) {
    const scan = scanTree(abs);
    const fp = fingerprint(repo, abs, scan.entries);
    const known = index.treeOid(rel, fp);
    if (opts.expectOid && known === opts.expectOid) return { kind: 'dir-unchanged', oid: known };
    const files: PendingFile[] = [];
    const entries: ManifestEntry[] = [];
    for (const s of scan.entries) {
      if (s.kind === 'file') files.push({ key: `${rel}/${s.rel}`, abs: absPath(repo, `${rel}/${s.rel}`), rel: s.rel, stat: s.stat });
      else if (s.kind === 'link') {
        const linkAbs = absPath(repo, `${rel}/${s.rel}`);
        // A symlink into the cache is how `cache.type symlink` checks files out: it stands for that file.
        if (cacheLinkOid(repo, linkAbs)) files.push({ key: `${rel}/${s.rel}`, abs: linkAbs, rel: s.rel, stat: fs.statSync(linkAbs), linked: true });
        else entries.push({ p: s.rel, t: 'l', l: s.target });
      } else entries.push({ p: s.rel, t: 'd' });
    }
    opts.progress?.({ totalFiles: files.length, totalBytes: files.reduce((n, f) => n + f.stat.size, 0) });
    const read = fileEntries(repo, index, files, opts);
    appendAll(entries, read.entries);
    return { kind: 'dir', entries, skipped: scan.skipped, fp: read.allTrusted ? fp : undefined };
  }
  throw badPath(`${rel} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file or directory'}; track its target instead`, { path: rel });
}

/**
 * One hash over every entry's path, size, mtime, ctime, inode and mode (or link target): equal fingerprints
 * mean no entry was added, removed, replaced or touched since.
 */
function fingerprint(repo: Repo, rootAbs: string, entries: Scanned[]): string {
  const parts: string[] = [];
  const statPart = (st: FileStat) => `${st.size}\0${st.mtimeMs}\0${st.ctimeMs}\0${st.ino}\0${st.mode}`;
  for (const s of entries) {
    if (s.kind === 'file') parts.push(`f\0${s.rel}\0${statPart(s.stat)}`);
    else if (s.kind === 'link') {
      // A link into the cache changes when its target does (an edit through it), not only when re-aimed.
      const target = path.resolve(path.dirname(path.join(rootAbs, s.rel)), s.target);
      const intoCache = target.startsWith(repo.store.objectsDir + path.sep);
      parts.push(`l\0${s.rel}\0${s.target}${intoCache ? `\0${statPart(fs.statSync(target, { throwIfNoEntry: false }) ?? ({} as fs.Stats))}` : ''}`);
    } else parts.push(`d\0${s.rel}`);
  }
  const h = repo.newHasher();
  h.update(Buffer.from(parts.join('\n')));
  return h.digestHex();
}

/** The oid a work tree symlink points at when its target is a cache object, else undefined. */
export function cacheLinkOid(repo: Repo, abs: string): Oid | undefined {
  const target = path.resolve(path.dirname(abs), fs.readlinkSync(abs));
  const rel = path.relative(repo.store.objectsDir, target);
  const m = /^([0-9a-f]{2})[\\/]([0-9a-f]{62})$/.exec(rel);
  return m && fs.existsSync(target) ? oidFromHex(`${m[1]}${m[2]}`) : undefined;
}

interface PendingFile {
  key: string;
  abs: string;
  rel: string;
  /** The file's stat (for a symlink into the cache: its target's). */
  stat: FileStat;
  /** A symlink into the cache. */
  linked?: boolean;
}

/**
 * A file that is the cache object itself (a symlink into the cache, or a read-only hard link to its
 * object) cannot carry its own executable bit: the recorded one stands.
 */
function executable(repo: Repo, f: PendingFile, oid: Oid, opts: ReadOptions): boolean {
  const mode = (f.stat.mode & 0o111) !== 0;
  let isObject = !!f.linked;
  if (!isObject && f.stat.nlink > 1 && (f.stat.mode & 0o222) === 0) {
    try {
      isObject = fs.statSync(repo.store.pathOf(oid)).ino === f.stat.ino;
    } catch (err) {
      if (!isErrno(err, 'ENOENT', 'ENOTDIR')) throw err;
      isObject = false; // no such object in the cache: the file is not a link to it
    }
  }
  return isObject ? opts.recordedX?.(f.key) ?? false : mode;
}

function fileEntries(repo: Repo, index: StatIndex, files: PendingFile[], opts: ReadOptions): { entries: FileEntry[]; allTrusted: boolean } {
  const known = new Array<Oid | undefined>(files.length);
  const toCheck: Oid[] = [];
  const present = opts.mode === 'store' && files.length > 0 ? opts.knownPresent?.() : undefined;
  files.forEach((f, i) => {
    const oid = index.lookup(f.key, f.stat);
    known[i] = oid;
    if (oid && opts.mode === 'store' && !present?.has(oid)) toCheck.push(oid);
  });
  // Trusted stat but object gone (cache cleared or shared cache pruned): read the file again.
  const absent = opts.mode === 'store' ? repo.store.missing(toCheck) : new Set<Oid>();
  const out: FileEntry[] = [];
  let allTrusted = true;
  files.forEach((f, i) => {
    let oid = known[i];
    if (!oid || absent.has(oid)) {
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
      opts.progress?.({ bytes: f.stat.size });
    }
    opts.progress?.({ files: 1 });
    out.push({ p: f.rel, o: oid, s: f.stat.size, x: executable(repo, f, oid, opts) });
  });
  return { entries: out, allTrusted };
}

function hashOrImport(repo: Repo, f: PendingFile, opts: ReadOptions): Oid {
  const onBytes = opts.progress ? (n: number) => opts.progress!({ bytes: n }) : undefined;
  let res: { oid: Oid; size: number } | undefined;
  if (opts.mode === 'store') {
    // A touched or re-indexed large file usually still holds stored content: confirm by hashing
    // (fast) instead of copying it into the cache again.
    const candidate = f.stat.size >= CONFIRM_BEFORE_COPY ? opts.candidate?.(f.key) : undefined;
    if (candidate && repo.store.has(candidate)) {
      const hashed = hashFileSync(repo.newHasher, f.abs);
      if (hashed.oid === candidate) res = hashed;
    }
    res ??= repo.store.importFile(f.abs, onBytes);
  } else {
    res = hashFileSync(repo.newHasher, f.abs, onBytes);
  }
  const after = f.linked ? fs.statSync(f.abs) : fs.lstatSync(f.abs);
  if (res.size !== f.stat.size || after.size !== f.stat.size || after.mtimeMs !== f.stat.mtimeMs) {
    throw badState(`${f.key} changed while mlx was reading it`, { hint: 'wait for the program writing it to finish, then try again', path: f.key });
  }
  return res.oid;
}

