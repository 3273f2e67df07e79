import { checkout, isRevisionCheckout } from '../../commands/checkout.js';
import type { Output } from '../output.js';
import { withProgress } from '../progress.js';
import { updatedLines } from '../render/checkout.js';

export async function runCheckout(out: Output, args: string[], opts: { force?: boolean }): Promise<void> {
  const onLockWait = (o: { pid: number }) => out.info(`waiting for another mlx process (pid ${o.pid}) to finish...`);
  const res = await withProgress(out, 'checkout', (progress) => checkout({ cwd: out.cwd, args, force: opts.force, progress, onLockWait }));
  if (!isRevisionCheckout(res)) {
    out.result(res, () => updatedLines(res));
    return;
  }
  out.result(res, () => [
    `checked out the tracked data of ${res.rev} (${res.commit.slice(0, 12)})${res.fetched ? `, fetched ${res.fetched} object(s)` : ''}`,
    ...updatedLines(res),
    ...res.notAtRevision.map((p) => `left as is: ${p} (not tracked at ${res.rev})`),
  ]);
}
