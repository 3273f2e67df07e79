import { remoteStatus } from '../../commands/remote-status.js';
import type { Output } from '../output.js';

// Apart from status.ts so that a plain `mlx status` does not load the remote and transfer code.
export async function runRemoteStatus(out: Output, paths: string[], remote: string | undefined): Promise<void> {
  const res = await remoteStatus({ cwd: out.cwd, paths, remote });
  for (const w of res.warnings) out.warn(w);
  out.result(res, () => {
    const lines = res.paths
      .filter((p) => p.notOnRemote > 0)
      .map((p) => `not pushed:   ${p.path}  (${p.notOnRemote} of ${p.objects} objects not on ${res.remote}${p.notInCache ? `; ${p.notInCache} not in the local cache either` : ''})`);
    return lines.length ? lines : [`everything is on ${res.remote}`];
  });
}
