import { remove } from '../../commands/remove.js';
import type { Output } from '../output.js';
import { shellQuote } from './add.js';

export async function runRemove(out: Output, paths: string[], opts: { outs?: boolean }): Promise<void> {
  const res = await remove({ cwd: out.cwd, paths, outs: opts.outs, onLockWait: (o) => out.info(`waiting for another mlx process (pid ${o.pid}) to finish...`) });
  const { toGitAdd, ...reported } = res;
  const said = { deleted: 'data deleted', kept: 'data kept in the work tree', absent: 'no data in the work tree' };
  out.result(reported, () => [
    ...res.paths.map((p) => `removed  ${p.path}  (${said[p.data]})`),
    `To record the change with git, run:\n  git add ${toGitAdd.map(shellQuote).join(' ')}`,
  ]);
}
