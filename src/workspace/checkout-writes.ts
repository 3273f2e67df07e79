import fs from 'node:fs';
import { failpoint } from '../util/failpoint.js';
import { forEachIndexLimited } from '../util/pool.js';
import { materialize, type Placement } from './link.js';
import type { Repo } from './repo.js';
import { StatColumns } from './scan.js';
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

/**
 * Writes placements 0 to `count` - 1, each made by `placementAt` when its turn comes (a million
 * placements never stand at once), and returns each file's stat once in place, by placement number
 * (for a symlink into the cache, its target's, as reading it does). The first file goes alone, so the
 * link-type fallback settles once before the rest run in parallel. Directories must exist already.
 */
export async function writeFiles(repo: Repo, count: number, placementAt: (i: number) => Placement, progress?: Progress, jobs = CHECKOUT_JOBS): Promise<StatColumns> {
  const out = new StatColumns();
  const onBytes = progress ? (n: number) => progress({ bytes: n }) : undefined;
  const half = Math.floor(count / 2);
  let done = 0;
  const writeOne = async (i: number) => {
    const p = placementAt(i);
    const { type, stat } = await materialize(repo, p, onBytes);
    out.set(i, stat ?? (type === 'symlink' ? fs.statSync(p.dest) : fs.lstatSync(p.dest)));
    progress?.({ files: 1 });
    if (++done === half) await failpoint('checkout.half-written');
  };
  if (count === 0) return out;
  await writeOne(0);
  await forEachIndexLimited(count - 1, jobs, (i) => writeOne(i + 1));
  return out;
}
