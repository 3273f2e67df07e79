import { push } from '../../commands/push.js';
import { parseJobs } from '../flags.js';
import { formatBytes, type Output } from '../output.js';
import { withProgress } from '../progress.js';

export interface TransferFlags {
  remote?: string;
  jobs?: string;
  force?: boolean;
  repair?: boolean;
}

export async function runPush(out: Output, paths: string[], flags: TransferFlags): Promise<void> {
  const jobs = parseJobs(flags.jobs);
  const res = await withProgress(out, 'push', (progress) => push({ cwd: out.cwd, paths, remote: flags.remote, jobs, repair: flags.repair, progress }));
  for (const w of res.warnings) out.warn(w);
  for (const d of res.repaired) out.warn(`repaired ${d.oid}: the copy in pack ${d.packHex.slice(0, 12)} was damaged (${d.why})`);
  if (res.resentPacks > 0) out.warn(`a concurrent gc --remote removed ${res.resentPacks} pack(s) this push needed: their objects were sent again`);
  out.result(res, () => [
    res.uploadedObjects === 0
      ? `everything is already on ${res.remote} (${res.objects} objects)`
      : `pushed to ${res.remote}: ${res.objects - res.alreadyOnRemote} of ${res.objects} objects in ${res.packs} pack(s), ${formatBytes(res.bytesSent)} sent, ${formatBytes(res.bytesDeduplicated)} deduplicated`,
  ]);
}
