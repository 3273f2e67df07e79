import { move } from '../../commands/move.js';
import type { Output } from '../output.js';
import { shellQuote } from './add.js';

export async function runMove(out: Output, src: string, dst: string): Promise<void> {
  const res = await move({ cwd: out.cwd, src, dst, onLockWait: (o) => out.info(`waiting for another mlx process (pid ${o.pid}) to finish...`) });
  const { toGitAdd, ...reported } = res;
  out.result(reported, () => [
    `moved  ${res.from} -> ${res.to}${res.dataMoved ? '' : '  (pointer only: the data is not in the work tree)'}`,
    `To record the change with git, run:\n  git add ${toGitAdd.map(shellQuote).join(' ')}`,
  ]);
}
