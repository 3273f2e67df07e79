import fs from 'node:fs';
import path from 'node:path';
import { tempPathFor } from '../util/fs.js';
import { cacheLinkOid } from './work-tree.js';
import type { Repo } from './repo.js';

/**
 * Makes every file at or under `abs` the work tree's own: a symlink into the cache becomes a copy of
 * its object, and a read-only hard link (what `cache.type hardlink` checks out) a writable copy. For
 * data mlx stops tracking: once gc removes the objects, a symlink would point at nothing, and a hard
 * link would stay a read-only file shared with nothing. Each copy is written beside the file and
 * renamed over it, so the file is whole at every moment. Returns how many files were replaced.
 */
export function detachFromCache(repo: Repo, abs: string): number {
  const st = fs.lstatSync(abs, { throwIfNoEntry: false });
  if (!st) return 0;
  if (st.isDirectory()) {
    let n = 0;
    for (const name of fs.readdirSync(abs)) n += detachFromCache(repo, path.join(abs, name));
    return n;
  }
  const intoCache = st.isSymbolicLink() && cacheLinkOid(repo, abs) !== undefined;
  const sharedObject = st.isFile() && st.nlink > 1 && (st.mode & 0o222) === 0;
  if (!intoCache && !sharedObject) return 0;
  const source = intoCache ? fs.realpathSync(abs) : abs;
  const executable = (fs.statSync(source).mode & 0o111) !== 0;
  const tmp = tempPathFor(abs);
  try {
    fs.copyFileSync(source, tmp);
    fs.chmodSync(tmp, executable ? 0o755 : 0o644);
    fs.renameSync(tmp, abs);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return 1;
}
