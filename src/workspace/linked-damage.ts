import fs from 'node:fs';
import path from 'node:path';
import { type Oid, oidFromHex } from '../hash/oid.js';
import { uniqueTempName } from '../util/fs.js';
import type { FileStat } from './scan.js';
import type { Repo } from './repo.js';

/*
 * With cache.type hardlink or symlink a work-tree file is the cache object itself. Read-only modes do
 * not stop root (nor a program that chmods first), so an in-place edit rewrites the object: its bytes
 * no longer match its id. This is seen where it costs nothing extra: a file whose stat changed is
 * hashed anyway, and if it still is (a link to) the object it was, that object is damaged.
 */

export interface DamagedObject {
  /** Repo path of the work-tree file the edit was made through. */
  path: string;
  oid: Oid;
  /** Where the damaged bytes went (undefined if they could not be moved). */
  quarantined?: string;
}

export interface LinkedFile {
  key: string;
  abs: string;
  /** The file's stat; for a symlink into the cache, its target's. */
  stat: FileStat;
  /** A symlink into the cache. */
  linked?: boolean;
}

/**
 * The object `f` is linked to, when `f` now holds other bytes (`oid`): a symlink's target, or for a
 * hard link the object among `candidates` (the oids the file last had) that shares its inode.
 */
export function damagedLinkTarget(repo: Repo, f: LinkedFile, oid: Oid, candidates: (Oid | undefined)[]): Oid | undefined {
  if (f.linked) {
    const m = /([0-9a-f]{2})[\\/]([0-9a-f]{62})$/.exec(fs.readlinkSync(f.abs));
    const target: Oid | undefined = m ? oidFromHex(`${m[1]}${m[2]}`) : undefined;
    return target !== undefined && target !== oid ? target : undefined;
  }
  if (f.stat.nlink < 2) return undefined;
  for (const c of new Set(candidates)) {
    if (c === undefined || c === oid) continue;
    const st = fs.statSync(repo.store.pathOf(c), { throwIfNoEntry: false });
    if (st && st.ino === f.stat.ino && st.dev === f.stat.dev) return c;
  }
  return undefined;
}

/**
 * Takes the damaged object out of the store (quarantine), keeping the edit: a symlinked file is first
 * stored under its new id (`oid`, unless already stored) and its link re-aimed there, so the
 * work tree shows the same bytes; a hard link keeps its inode. A fetch brings the original back.
 */
export function quarantineLinked(repo: Repo, f: LinkedFile, damaged: Oid, oid: Oid): DamagedObject {
  if (f.linked) {
    if (!repo.store.has(oid)) repo.store.importFile(f.abs);
    fs.mkdirSync(repo.layout.tmpDir, { recursive: true });
    const tmp = path.join(repo.layout.tmpDir, uniqueTempName());
    fs.symlinkSync(repo.store.pathOf(oid), tmp);
    fs.renameSync(tmp, f.abs);
  }
  return { path: f.key, oid: damaged, quarantined: repo.store.quarantine(damaged) };
}

export function describeDamage(d: DamagedObject): string {
  return `cache object ${d.oid} was changed by an in-place edit of ${d.path}, which is linked to it (cache.type hardlink/symlink); ${d.quarantined ? `moved it to ${d.quarantined}` : 'it could not be moved'}, the edit is kept in ${d.path}`;
}

export const DAMAGE_HINT = 'mlx fetch brings the original back from a remote; without one, that version is lost';
