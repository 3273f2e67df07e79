import fs from 'node:fs';
import path from 'node:path';
import type { Oid } from '../hash/oid.js';
import { hashFileSync } from '../hash/hash-file.js';
import type { FileEntry, ManifestEntry } from '../formats/manifest.js';
import { E, MlxError } from '../util/errors.js';
import { lstatIfExists } from '../util/fs.js';
import { scanTree } from './scan.js';
import type { StatIndex } from './stat-index.js';
import { absPath, type Repo } from './repo.js';

/** Progress of long work, in files and bytes; the CLI renders it. */
export interface Progress {
  (delta: { files?: number; bytes?: number; totalFiles?: number; totalBytes?: number }): void;
}

export type WorkTree =
  | { kind: 'missing' }
  | { kind: 'file'; oid: Oid; size: number; x: boolean }
  | { kind: 'dir'; entries: ManifestEntry[]; skipped: { rel: string; why: string }[] };

export interface WorkTreeStats {
  hashedFiles: number;
  hashedBytes: number;
}

export interface ReadOptions {
  /** `store` copies new content into the cache (add); `hash` only computes oids (status, checkout). */
  mode: 'store' | 'hash';
  /** Oids already known to be in the store, to skip presence checks. */
  knownPresent?: ReadonlySet<Oid>;
  progress?: Progress;
  stats?: WorkTreeStats;
}

/**
 * Reads what the workspace holds at a tracked path: the oid of every file, using the stat index so
 * unchanged files are not read. With mode `store`, new content lands in the cache on the way.
 */
export function readWorkTree(repo: Repo, index: StatIndex, rel: string, opts: ReadOptions): WorkTree {
  const abs = absPath(repo, rel);
  const st = lstatIfExists(abs);
  if (!st) return { kind: 'missing' };
  const linked = st.isSymbolicLink() ? cacheLinkOid(repo, abs) : undefined;
  if (linked) return { kind: 'file', oid: linked, size: fs.statSync(abs).size, x: false };
  if (st.isFile()) {
    const [entry] = fileEntries(repo, index, [{ key: rel, abs, rel, stat: st }], opts);
    return { kind: 'file', oid: entry!.o, size: entry!.s, x: entry!.x };
  }
  if (st.isDirectory()) {
    const scan = scanTree(abs);
    const files: PendingFile[] = [];
    const entries: ManifestEntry[] = [];
    for (const s of scan.entries) {
      if (s.kind === 'file') files.push({ key: `${rel}/${s.rel}`, abs: absPath(repo, `${rel}/${s.rel}`), rel: s.rel, stat: s.stat });
      else if (s.kind === 'link') {
        const abs = absPath(repo, `${rel}/${s.rel}`);
        const oid = cacheLinkOid(repo, abs);
        // A symlink into the cache is how `cache.type symlink` checks files out: it stands for that file.
        entries.push(oid ? { p: s.rel, o: oid, s: fs.statSync(abs).size, x: false } : { p: s.rel, t: 'l', l: s.target });
      }
      else entries.push({ p: s.rel, t: 'd' });
    }
    opts.progress?.({ totalFiles: files.length, totalBytes: files.reduce((n, f) => n + f.stat.size, 0) });
    entries.push(...fileEntries(repo, index, files, opts));
    return { kind: 'dir', entries, skipped: scan.skipped };
  }
  throw new MlxError(E.BAD_PATH, `${rel} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file or directory'}; track its target instead`, { data: { path: rel } });
}

/** The oid a workspace symlink points at when its target is a cache object, else undefined. */
export function cacheLinkOid(repo: Repo, abs: string): Oid | undefined {
  const target = path.resolve(path.dirname(abs), fs.readlinkSync(abs));
  const rel = path.relative(repo.store.objectsDir, target);
  const m = /^([0-9a-f]{2})[\\/]([0-9a-f]{62})$/.exec(rel);
  return m && fs.existsSync(target) ? `b3:${m[1]}${m[2]}` : undefined;
}

interface PendingFile { key: string; abs: string; rel: string; stat: fs.Stats }

function fileEntries(repo: Repo, index: StatIndex, files: PendingFile[], opts: ReadOptions): FileEntry[] {
  const known = new Array<Oid | undefined>(files.length);
  const toCheck: Oid[] = [];
  files.forEach((f, i) => {
    const oid = index.lookup(f.key, f.stat);
    known[i] = oid;
    if (oid && opts.mode === 'store' && !opts.knownPresent?.has(oid)) toCheck.push(oid);
  });
  // Trusted stat but object gone (cache cleared or shared cache pruned): read the file again.
  const absent = opts.mode === 'store' ? repo.store.missing(toCheck) : new Set<Oid>();
  const out: FileEntry[] = [];
  files.forEach((f, i) => {
    let oid = known[i];
    if (!oid || absent.has(oid)) {
      oid = hashOrImport(repo, f, opts);
      index.record(f.key, f.stat, oid, Date.now());
      if (opts.stats) {
        opts.stats.hashedFiles++;
        opts.stats.hashedBytes += f.stat.size;
      }
    } else {
      opts.progress?.({ bytes: f.stat.size });
    }
    opts.progress?.({ files: 1 });
    out.push({ p: f.rel, o: oid, s: f.stat.size, x: (f.stat.mode & 0o111) !== 0 });
  });
  return out;
}

function hashOrImport(repo: Repo, f: PendingFile, opts: ReadOptions): Oid {
  const onBytes = opts.progress ? (n: number) => opts.progress!({ bytes: n }) : undefined;
  const res = opts.mode === 'store' ? repo.store.importFile(f.abs, onBytes) : hashFileSync(repo.newHasher, f.abs, onBytes);
  const after = fs.lstatSync(f.abs);
  if (res.size !== f.stat.size || after.size !== f.stat.size || after.mtimeMs !== f.stat.mtimeMs) {
    throw new MlxError(E.BAD_STATE, `${f.key} changed while mlx was reading it`, { hint: 'wait for the program writing it to finish, then try again', data: { path: f.key } });
  }
  return res.oid;
}
