import fs from 'node:fs';
import type { Oid } from '../hash/oid.js';
import { failpoint } from '../util/failpoint.js';
import { forEachLimited } from '../util/pool.js';
import { materialize, type Placement } from './link.js';
import type { Repo } from './repo.js';
import type { FileStat } from './scan.js';
import type { Progress } from './work-tree.js';

/*
 * The files of a checkout. Measured on this kind of machine (2 cores, ext4, 20,000 files of 1-4 KiB),
 * the chain of calls that writes one small file (open, read, create, write, fstat, close) costs less
 * as synchronous calls than on libuv's threads, where each call is a hop between threads: small files
 * are written one after the other. Large trusted copies are kernel copies on libuv's threads, several
 * at once. A small copy to a path where nothing is is created there and written in place (one file
 * created, no rename); anything else appears by rename of a complete temp file. A process stopped
 * between files leaves whole files and temp files in `.mlx/tmp` (swept as orphans); one killed in the
 * middle of an in-place write can leave that file short, and since the stat index records files only
 * once the checkout ends, status and the next checkout see it as a local change, never as good
 * (spec/workspace.md).
 */

/** Large copies in flight at once: one per libuv thread. */
export const CHECKOUT_JOBS = 4;

export interface WrittenFile {
  /** Where the file went. */
  dest: string;
  oid: Oid;
  /** Its stat once in place (for a symlink into the cache, its target's, as reading it does). */
  stat: FileStat;
}

/**
 * Writes every placement and returns what was written, in order. The first file goes alone, so the
 * link-type fallback settles once before the rest run in parallel. Directories must exist already.
 */
export async function writeFiles(repo: Repo, placements: readonly Placement[], progress?: Progress, jobs = CHECKOUT_JOBS): Promise<WrittenFile[]> {
  const out: WrittenFile[] = new Array(placements.length);
  const onBytes = progress ? (n: number) => progress({ bytes: n }) : undefined;
  const half = Math.floor(placements.length / 2);
  let done = 0;
  const writeOne = async (p: Placement, i: number) => {
    const { type, stat } = await materialize(repo, p, onBytes);
    const st = stat ?? (type === 'symlink' ? fs.statSync(p.dest) : fs.lstatSync(p.dest));
    out[i] = { dest: p.dest, oid: p.oid, stat: st };
    progress?.({ files: 1 });
    if (++done === half) await failpoint('checkout.half-written');
  };
  if (placements.length === 0) return out;
  await writeOne(placements[0]!, 0);
  await forEachLimited(placements.slice(1), jobs, (p, i) => writeOne(p, i + 1));
  return out;
}
