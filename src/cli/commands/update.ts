import { update, type UpdatedPath } from '../../commands/update.js';
import { parseJobs } from '../flags.js';
import { formatBytes, type Output } from '../output.js';
import { withProgress } from '../progress.js';
import { updatedLines } from '../render/checkout.js';

export interface UpdateFlags {
  rev?: string;
  force?: boolean;
  jobs?: string;
}

export async function runUpdate(out: Output, paths: string[], flags: UpdateFlags): Promise<void> {
  const jobs = parseJobs(flags.jobs);
  const res = await withProgress(out, 'update', (progress) => update({ cwd: out.cwd, paths, rev: flags.rev, force: flags.force, jobs, progress }));
  out.result(res, () => {
    if (res.paths.length === 0) return ['no imported paths'];
    return [...res.paths.map(describe), ...updatedLines(res.checkout)];
  });
}

/** `clean  ../src@9ccd2704b45f -> @41be0c3a97d2 (rev v2): data changed, 2 -> 3 files, 12 B -> 20 B`. */
function describe(u: UpdatedPath): string {
  const { from, to } = u;
  const pin = `${to.source.repo}@${from.source.commit.slice(0, 12)}`;
  const rev = to.source.rev === undefined ? '' : ` (rev ${to.source.rev})`;
  if (u.change === 'none') return `${u.path}  up to date at ${pin}${rev}`;
  const moved = from.source.commit === to.source.commit ? pin : `${pin} -> @${to.source.commit.slice(0, 12)}`;
  if (u.change === 'pin') return `${u.path}  ${moved}${rev}: same data`;
  const counts = from.files !== undefined && to.files !== undefined && from.files !== to.files ? `, ${from.files} -> ${to.files} files` : '';
  return `${u.path}  ${moved}${rev}: data changed${counts}, ${formatBytes(from.size)} -> ${formatBytes(to.size)} (mlx diff lists the files)`;
}
