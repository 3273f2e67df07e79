import { checkout } from '../../workspace/checkout.js';
import { openRepo } from '../../workspace/repo.js';
import type { Output } from '../output.js';
import { withProgress } from '../progress.js';

export async function run(out: Output, paths: string[], opts: { force?: boolean }): Promise<void> {
  const repo = await openRepo(out.cwd);
  const res = await withProgress(out, 'checkout', (progress) =>
    checkout(repo, out.cwd, paths, { force: opts.force, progress, onLockWait: (o) => out.info(`waiting for another mlx process (pid ${o.pid}) to finish...`) }),
  );
  out.result(res, () =>
    res.paths
      .filter((p) => p.written + p.removed > 0)
      .map((p) => `updated  ${p.path}  (${p.written} written, ${p.removed} removed, ${p.unchanged} unchanged)`),
  );
}
