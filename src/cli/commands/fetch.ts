import { fetch } from '../../commands/fetch.js';
import { parseJobs } from '../flags.js';
import { formatBytes, type Output } from '../output.js';
import { withProgress } from '../progress.js';
import type { TransferFlags } from './push.js';

/** What a fetch took from older versions in the cache instead of the network, when anything. */
export function reused(bytes: number): string {
  return bytes > 0 ? `, ${formatBytes(bytes)} reused from older versions in the cache` : '';
}

export async function runFetch(out: Output, paths: string[], flags: TransferFlags): Promise<void> {
  const jobs = parseJobs(flags.jobs);
  const res = await withProgress(out, 'fetch', (progress) => fetch({ cwd: out.cwd, paths, remote: flags.remote, jobs, progress }));
  for (const w of res.warnings) out.warn(w);
  out.result(res, () => [`fetched ${res.fetched} object(s) from ${res.remote}, ${formatBytes(res.bytesReceived)} received${reused(res.bytesReused)} (${res.alreadyLocal} already in the cache)`]);
}
