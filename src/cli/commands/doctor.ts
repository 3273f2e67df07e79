import { doctor } from '../../commands/doctor.js';
import { version } from '../version.js';
import { formatBytes, type Output } from '../output.js';

export async function runDoctor(out: Output): Promise<void> {
  const r = await doctor({ cwd: out.cwd, version: version() });
  out.result(r, () => [
    `mlx ${r.mlx} on node ${r.node} (${r.platform})`,
    `hash:        ${r.hash.algorithm} (${r.hash.backend})`,
    `repository:  ${r.repo}`,
    `cache:       ${r.cache.dir} — ${r.cache.objects} objects, ${formatBytes(r.cache.bytes)}${r.cache.freeBytes !== undefined ? `, ${formatBytes(r.cache.freeBytes)} free` : ''}`,
    `link types:  configured ${r.linkTypes.configured.join(',')}; supported here: ${Object.entries(r.linkTypes.supported).filter(([, ok]) => ok).map(([t]) => t).join(', ')}`,
    ...(r.staleTempFilesRemoved ? [`removed ${r.staleTempFilesRemoved} stale temp file(s) from the cache`] : []),
  ]);
}
