import { pull } from '../../commands/pull.js';
import { parseJobs } from '../flags.js';
import { formatBytes, type Output } from '../output.js';
import { withProgress } from '../progress.js';
import { updatedLines } from '../render/checkout.js';
import { reused } from './fetch.js';
import type { TransferFlags } from './push.js';
import { selfCommand } from '../self-command.js';

export async function runPull(out: Output, paths: string[], flags: TransferFlags): Promise<void> {
  const jobs = parseJobs(flags.jobs);
  const res = await withProgress(out, 'pull', (progress) => pull({ cwd: out.cwd, paths, remote: flags.remote, jobs, force: flags.force, progress, command: selfCommand() }));
  for (const w of res.fetch.warnings) out.warn(w);
  out.result(res, () => [
    `fetched ${res.fetch.fetched} object(s) from ${res.fetch.remote}, ${formatBytes(res.fetch.bytesReceived)} received${reused(res.fetch.bytesReused)}`,
    ...updatedLines(res.checkout),
    ...(res.mergeDriverRegistered ? ['registered the mlx merge driver for this clone (mlx install adds the git hooks too)'] : []),
  ]);
}
