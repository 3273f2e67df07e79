import { openRepo } from '../../workspace/repo.js';
import { fetch, pull, push, remoteStatus } from '../../repository/transfer.js';
import { E, MlxError } from '../../util/errors.js';
import { formatBytes, type Output } from '../output.js';
import { withProgress } from '../progress.js';

export interface TransferFlags {
  remote?: string;
  jobs?: string;
  force?: boolean;
  repair?: boolean;
}

function jobsOf(flags: TransferFlags): number | undefined {
  if (flags.jobs === undefined) return undefined;
  const n = Number(flags.jobs);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new MlxError(E.USAGE, `-j expects a whole number from 1 to 256, got ${flags.jobs}`);
  return n;
}

export async function runPush(out: Output, paths: string[], flags: TransferFlags): Promise<void> {
  const repo = await openRepo(out.cwd);
  const res = await withProgress(out, 'push', (progress) => push(repo, out.cwd, paths, { remote: flags.remote, jobs: jobsOf(flags), repair: flags.repair, progress }));
  for (const w of res.warnings) out.warn(w);
  for (const d of res.repaired) out.warn(`repaired ${d.oid}: the copy in pack ${d.packKeyHex.slice(0, 12)} was damaged (${d.why})`);
  if (res.resentPacks > 0) out.warn(`a concurrent gc --remote removed ${res.resentPacks} pack(s) this push needed: their objects were sent again`);
  out.result(res, () => [
    res.uploadedObjects === 0
      ? `everything is already on ${res.remote} (${res.objects} objects)`
      : `pushed to ${res.remote}: ${res.objects - res.alreadyOnRemote} of ${res.objects} objects in ${res.packs} pack(s), ${formatBytes(res.bytesSent)} sent, ${formatBytes(res.bytesDeduplicated)} deduplicated`,
  ]);
}

/** What a fetch took from older versions in the cache instead of the network, when anything. */
function reused(bytes: number): string {
  return bytes > 0 ? `, ${formatBytes(bytes)} reused from older versions in the cache` : '';
}

export async function runFetch(out: Output, paths: string[], flags: TransferFlags): Promise<void> {
  const repo = await openRepo(out.cwd);
  const res = await withProgress(out, 'fetch', (progress) => fetch(repo, out.cwd, paths, { remote: flags.remote, jobs: jobsOf(flags), progress }));
  for (const w of res.warnings) out.warn(w);
  out.result(res, () => [`fetched ${res.fetched} object(s) from ${res.remote}, ${formatBytes(res.bytesReceived)} received${reused(res.bytesReused)} (${res.alreadyLocal} already in the cache)`]);
}

export async function runPull(out: Output, paths: string[], flags: TransferFlags): Promise<void> {
  const repo = await openRepo(out.cwd);
  const res = await withProgress(out, 'pull', (progress) => pull(repo, out.cwd, paths, { remote: flags.remote, jobs: jobsOf(flags), force: flags.force, progress }));
  for (const w of res.fetch.warnings) out.warn(w);
  out.result(res, () => [
    `fetched ${res.fetch.fetched} object(s) from ${res.fetch.remote}, ${formatBytes(res.fetch.bytesReceived)} received${reused(res.fetch.bytesReused)}`,
    ...res.checkout.paths.filter((p) => p.written + p.removed > 0).map((p) => `updated  ${p.path}  (${p.written} written, ${p.removed} removed, ${p.unchanged} unchanged)`),
  ]);
}

export async function runRemoteStatus(out: Output, paths: string[], remoteName: string | undefined): Promise<void> {
  const repo = await openRepo(out.cwd);
  const res = await remoteStatus(repo, out.cwd, paths, remoteName);
  for (const w of res.warnings) out.warn(w);
  out.result(res, () => {
    const lines = res.paths
      .filter((p) => p.notOnRemote > 0)
      .map((p) => `not pushed:   ${p.path}  (${p.notOnRemote} of ${p.objects} objects not on ${res.remote}${p.notInCache ? `; ${p.notInCache} not in the local cache either` : ''})`);
    return lines.length ? lines : [`everything is on ${res.remote}`];
  });
}
