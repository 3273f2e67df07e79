import { doctor } from '../../commands/doctor.js';
import { version } from '../version.js';
import { formatBytes, type Output } from '../output.js';
import { badState } from '../../util/errors.js';

export async function runDoctor(out: Output): Promise<void> {
  const r = await doctor({ cwd: out.cwd, version: version() });
  out.result(r, () => [
    `mlx ${r.mlx} on node ${r.node} (${r.platform})`,
    `hash:        ${r.hash.algorithm} (${r.hash.backend})`,
    `zstd:        ${r.zstd.backend ?? 'missing'}${r.zstd.backend === 'zstd-napi' ? ' (native addon)' : ''}`,
    `repository:  ${r.repo}`,
    `cache:       ${r.cache.dir} — ${r.cache.objects} objects, ${formatBytes(r.cache.bytes)}${r.cache.freeBytes !== undefined ? `, ${formatBytes(r.cache.freeBytes)} free` : ''}`,
    `link types:  configured ${r.linkTypes.configured.join(',')}; supported here: ${Object.entries(r.linkTypes.supported).filter(([, ok]) => ok).map(([t]) => t).join(', ')}`,
    ...(r.staleTempFilesRemoved ? [`removed ${r.staleTempFilesRemoved} stale temp file(s) from the cache`] : []),
  ]);
  // The report is printed either way; a missing zstd (push, pull and fetch need it) is the exit status and the error line.
  if (r.zstd.missing) throw badState(r.zstd.missing, { hint: r.zstd.hint });
}
