import { resolve } from '../../commands/resolve.js';
import { badUsage } from '../../util/errors.js';
import type { Output } from '../output.js';

export async function runResolve(out: Output, runs: string[], opts: { ours?: boolean; theirs?: boolean }): Promise<void> {
  if (!!opts.ours === !!opts.theirs) throw badUsage('say which version to keep: --ours or --theirs', { hint: 'mlx resolve <run...> --ours (or --theirs)' });
  const res = await resolve({ cwd: out.cwd, runs, side: opts.ours ? 'ours' : 'theirs' });
  const staged = ['mlx.lock', ...res.pointers.map((p) => `${p}.mlx`)];
  out.result(res, () => [
    `kept the ${res.side} version of run${res.resolved.length > 1 ? 's' : ''} ${res.resolved.join(', ')} in mlx.lock`,
    ...res.pointers.map((p) => `kept the ${res.side} pointer ${p}.mlx${res.checkedOut.includes(p) ? ' and checked out its data' : ''}`),
    ...(res.checkoutProblem ? [`warning: could not check out the data: ${res.checkoutProblem}`] : []),
    res.remaining.length > 0
      ? `still in conflict: run${res.remaining.length > 1 ? 's' : ''} ${res.remaining.join(', ')} (mlx resolve ${res.remaining.join(' ')} --ours or --theirs)`
      : `next: git add ${staged.join(' ')} and commit the merge`,
  ]);
}
