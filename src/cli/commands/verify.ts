import { verify } from '../../commands/verify.js';
import { verifyFailed } from '../../util/errors.js';
import type { Output } from '../output.js';
import { withProgress } from '../progress.js';

export async function runVerify(out: Output, rev: string | undefined, opts: { remote?: boolean; remoteName?: string; data?: boolean }): Promise<void> {
  const res = await withProgress(out, 'verify', (progress) => verify({ cwd: out.cwd, rev, remote: opts.remote, remoteName: opts.remoteName, data: opts.data, progress }));
  out.result(res, () => [
    ...res.problems.map((p) =>
      p.detail !== undefined
        ? `${p.problem.padEnd(12)} ${p.oid}  ${p.detail}`
        : `${p.problem.padEnd(12)} ${p.oid}  needed by ${p.paths.slice(0, 3).join(', ')}${p.paths.length > 3 ? ` and ${p.paths.length - 3} more` : ''}`,
    ),
    `${res.problems.length === 0 ? 'ok' : 'FAILED'}: checked ${res.checked} object(s) of ${res.rev} in ${res.where === 'cache' ? 'the cache' : `remote ${res.where}`}`,
  ]);
  if (res.problems.length > 0) {
    throw verifyFailed(`verify found ${res.problems.length} problem(s) in ${res.where === 'cache' ? 'the cache' : `remote ${res.where}`}`, {
      hint: res.where === 'cache' ? 'mlx pull to restore them, or re-add the data' : 'mlx push --repair from a machine that has the data',
    });
  }
}
