import { doctor } from '../../commands/doctor.js';
import { openRepo } from '../../workspace/repo.js';
import { version } from '../version.js';
import { formatBytes, type Output } from '../output.js';

export async function run(out: Output): Promise<void> {
  const repo = await openRepo(out.cwd);
  const r = doctor(repo, version());
  out.result(r, () => [
    `mlx ${r.mlx} on node ${r.node} (${r.platform})`,
    `hash:        ${r.hash.algorithm} (${r.hash.backend})`,
    `repository:  ${r.repo}`,
    `cache:       ${r.cache.dir} — ${r.cache.objects} objects, ${formatBytes(r.cache.bytes)}${r.cache.freeBytes !== undefined ? `, ${formatBytes(r.cache.freeBytes)} free` : ''}`,
    `link types:  configured ${r.linkTypes.configured.join(',')}; supported here: ${Object.entries(r.linkTypes.supported).filter(([, ok]) => ok).map(([t]) => t).join(', ')}`,
    ...(r.staleTempFilesRemoved ? [`removed ${r.staleTempFilesRemoved} stale temp file(s) from the cache`] : []),
  ]);
}
