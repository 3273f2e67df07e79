import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Oid } from '../hash/oid.js';
import type { LinkType } from '../formats/config.js';
import { missingObject } from '../store/object-store.js';
import { isErrno, linkFailed } from '../util/errors.js';
import { failpoint } from '../util/failpoint.js';
import { processUmask, uniqueTempName } from '../util/fs.js';
import { fstatFields, type LstatFields } from '../util/lstat-fields.js';
import type { Repo } from './repo.js';

/** Errors that mean "this link type is not possible here", as opposed to real failures. */
const UNSUPPORTED: Record<LinkType, string[]> = {
  reflink: ['ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EINVAL', 'ENOSYS', 'ERR_FS_CP_EINVAL'],
  hardlink: ['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP'],
  symlink: ['EPERM', 'ENOTSUP', 'EOPNOTSUPP'],
  copy: [],
};

/** Trusted copies of at least this many bytes are made by the kernel (copy_file_range), off the main thread. */
const KERNEL_COPY_FROM = 1 << 20;

/** The first link type that worked for a given cache, so the fallback walk happens once per run. */
const winners = new Map<string, number>();

/** One object to be made into a work-tree file. */
export interface Placement {
  oid: Oid;
  dest: string;
  executable: boolean;
  /** The object's size, as its stat check found it. */
  size: number;
  /** Nothing was at `dest` when checkout planned (or it was removed since): the file may be created there. */
  fresh?: boolean;
}

/** What {@link materialize} did. */
export interface Materialized {
  type: LinkType;
  /** The new file's stat, when it was taken from the open file (a file created in place). */
  stat?: LstatFields;
}

/**
 * Makes `dest` hold object `oid`, trying the configured link types in order (reflink → copy by default).
 * The object is trusted as the store wrote it (checkout stat-checked it first); with `cache.verify`
 * it is re-hashed on the way (copy hashes what it copies, links hash first). A small copy to a fresh
 * path is created there exclusively (O_EXCL) and written in place: one file created instead of a temp
 * file created and renamed. Anything else appears by rename of a complete temp file. Small files are
 * written with synchronous calls (measured faster here than the same calls on libuv's threads); a large
 * trusted copy is a kernel copy on a libuv thread, so several of those may be in flight at once.
 */
export async function materialize(repo: Repo, p: Placement, onBytes?: (n: number) => void): Promise<Materialized> {
  const types = repo.linkTypes;
  const memoKey = repo.store.root;
  for (let i = winners.get(memoKey) ?? 0; i < types.length; i++) {
    const type = types[i]!;
    if (type === 'copy' && p.fresh && p.size < KERNEL_COPY_FROM) {
      const stat = await createInPlace(repo, p, onBytes);
      if (stat) {
        winners.set(memoKey, i);
        return { type, stat };
      }
    }
    const tmp = path.join(repo.layout.tmpDir, uniqueTempName());
    try {
      await place(repo, type, p, tmp, onBytes);
      renameInto(tmp, p.dest);
      winners.set(memoKey, i);
      return { type };
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      if (isErrno(err, 'ENOENT') && !repo.store.has(p.oid)) throw missingObject(p.oid);
      if (isErrno(err, ...UNSUPPORTED[type]) && i < types.length - 1) continue;
      if (isErrno(err, ...UNSUPPORTED[type])) {
        throw linkFailed(`cannot ${type} ${p.dest} from the cache: ${(err as Error).message}`, {
          hint: 'add copy to cache.type (mlx config cache.type reflink,copy)',
        });
      }
      throw err;
    }
  }
  throw linkFailed(`no usable link type in cache.type (${types.join(',')})`);
}

/**
 * Creates `p.dest` exclusively and writes the object into it; returns its stat (taken before it is
 * closed: no rename follows to change it), or undefined when something is at `dest` now (the caller
 * then replaces it by rename, as for any other path). A failed write removes the file it created.
 * A process killed during the write can leave this one file short; the stat index records a file
 * only once checkout has finished, so status reports it modified and the next checkout refuses to
 * overwrite it unless its content is in the cache or --force is given (spec/workspace.md).
 */
async function createInPlace(repo: Repo, p: Placement, onBytes?: (n: number) => void): Promise<LstatFields | undefined> {
  let fd: number;
  try {
    fd = fs.openSync(p.dest, 'wx', (p.executable ? 0o777 : 0o666) & ~processUmask());
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return undefined;
    throw err;
  }
  try {
    await failpoint('checkout.created-in-place');
    repo.store.copyOutTo(p.oid, fd, repo.verifyCache, undefined, p.size);
    onBytes?.(p.size);
    return fstatFields(fd);
  } catch (err) {
    fs.rmSync(p.dest, { force: true });
    throw err;
  } finally {
    fs.closeSync(fd);
  }
}

async function place(repo: Repo, type: LinkType, { oid, executable, size }: Placement, tmp: string, onBytes?: (n: number) => void): Promise<void> {
  const obj = repo.store.pathOf(oid);
  const mode = (executable ? 0o777 : 0o666) & ~processUmask();
  const verify = repo.verifyCache;
  switch (type) {
    case 'copy':
      if (verify) return repo.store.copyOutVerified(oid, tmp, mode, onBytes);
      // Small files: a read and a write on this thread cost less than a kernel copy's extra calls.
      if (size < KERNEL_COPY_FROM) repo.store.copyOut(oid, tmp, mode);
      else {
        await fsp.copyFile(obj, tmp, fs.constants.COPYFILE_EXCL);
        await fsp.chmod(tmp, mode);
      }
      onBytes?.(size);
      return;
    case 'reflink':
      if (verify) repo.store.verifyUnlessWrittenHere(oid);
      await fsp.copyFile(obj, tmp, fs.constants.COPYFILE_FICLONE_FORCE | fs.constants.COPYFILE_EXCL);
      await fsp.chmod(tmp, mode);
      onBytes?.(size);
      return;
    case 'hardlink':
      if (verify) repo.store.verifyUnlessWrittenHere(oid);
      fs.linkSync(obj, tmp);
      return;
    case 'symlink':
      if (verify) repo.store.verifyUnlessWrittenHere(oid);
      fs.symlinkSync(obj, tmp);
      return;
  }
}

function renameInto(tmp: string, dest: string): void {
  try {
    fs.renameSync(tmp, dest);
  } catch (err) {
    if (!isErrno(err, 'EXDEV')) throw err;
    // The data folder is on another filesystem than .mlx/: copy beside the target, then rename there.
    const near = path.join(path.dirname(dest), `.${path.basename(dest)}.${uniqueTempName()}.mlxtmp`);
    try {
      fs.copyFileSync(tmp, near);
      fs.renameSync(near, dest);
    } finally {
      fs.rmSync(near, { force: true });
      fs.rmSync(tmp, { force: true });
    }
  }
}

/**
 * Whether a work-tree file holding the object's content is in the form the configured link type
 * asks for: the cache object itself for hardlink/symlink, and for copy/reflink a file of its own —
 * a hard link left over from an earlier `cache.type hardlink` must be replaced, never chmod'ed,
 * since that would change the shared, read-only cache object.
 */
export function isLinkedTo(repo: Repo, st: fs.Stats, abs: string, oid: Oid): boolean {
  const type = repo.linkTypes[winners.get(repo.store.root) ?? 0];
  if (type === 'symlink') return st.isSymbolicLink() && fs.readlinkSync(abs) === repo.store.pathOf(oid);
  if (st.isSymbolicLink()) return false;
  let sharesInode = false;
  if (st.nlink > 1 || type === 'hardlink') {
    try {
      sharesInode = fs.statSync(repo.store.pathOf(oid)).ino === st.ino;
    } catch (err) {
      if (!isErrno(err, 'ENOENT', 'ENOTDIR')) throw err;
      sharesInode = false; // no such object in the cache: nothing to share an inode with
    }
  }
  return type === 'hardlink' ? sharesInode : !sharesInode;
}

/** Reports which link types this cache and work tree support, by trying each on a scratch object. */
export function probeLinkTypes(repo: Repo): Record<LinkType, boolean> {
  const dir = repo.layout.tmpDir;
  fs.mkdirSync(dir, { recursive: true });
  const src = path.join(repo.store.tmpDir, `probe-${process.pid}`);
  const out: Record<LinkType, boolean> = { reflink: false, copy: false, hardlink: false, symlink: false };
  fs.writeFileSync(src, 'probe');
  try {
    const attempts: Record<LinkType, (dst: string) => void> = {
      reflink: (dst) => fs.copyFileSync(src, dst, fs.constants.COPYFILE_FICLONE_FORCE),
      copy: (dst) => fs.copyFileSync(src, dst),
      hardlink: (dst) => fs.linkSync(src, dst),
      symlink: (dst) => fs.symlinkSync(src, dst),
    };
    for (const [type, attempt] of Object.entries(attempts) as [LinkType, (d: string) => void][]) {
      const dst = path.join(dir, `probe-${type}-${process.pid}`);
      try {
        attempt(dst);
        out[type] = true;
      } catch {
        out[type] = false; // any failure means this link type does not work here: that is the answer sought
      } finally {
        fs.rmSync(dst, { force: true });
      }
    }
  } finally {
    fs.rmSync(src, { force: true });
  }
  return out;
}
