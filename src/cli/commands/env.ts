import type { EnvRecord } from '../../formats/env-record.js';
import { shortOid } from '../../hash/oid.js';
import { envCapture, envDiff } from '../../commands/env.js';
import type { EnvChange } from '../../run/env-diff.js';
import { formatBytes, type Output } from '../output.js';

/** `mlx env capture`: records this machine's environment in the cache and prints it with its oid. */
export async function runEnvCapture(out: Output): Promise<void> {
  const { oid, record, warnings } = await envCapture({ cwd: out.cwd });
  for (const w of warnings) out.warn(w);
  out.result({ oid, record }, () => [...summary(record), `environment ${oid}`]);
}

/** `mlx env diff <a> <b>`: what changed between two environment records. */
export async function runEnvDiff(out: Output, a: string, b: string): Promise<void> {
  const d = await envDiff({ cwd: out.cwd, a, b });
  out.result(d, () => {
    if (d.changes.length === 0) return [`${shortOid(d.a)} and ${shortOid(d.b)}: same environment`];
    return [`${shortOid(d.a)} → ${shortOid(d.b)}: ${d.changes.filter((c) => !c.package).length} field(s) changed`, ...d.changes.map(changeLine)];
  });
}

function summary(r: EnvRecord): string[] {
  const gpus = r.gpus.map((g) => `${g.name} (driver ${g.driver}${g.cuda ? `, CUDA ${g.cuda}` : ''}${g.rocm ? `, ROCm ${g.rocm}` : ''}${g.memory_bytes ? `, ${formatBytes(g.memory_bytes)}` : ''})`);
  const runtimes = Object.entries(r.runtimes).map(([name, v]) => `${name} ${v}`);
  const randomEnv = Object.entries(r.random_env).map(([k, v]) => `${k}=${v}`);
  return [
    `os:         ${r.os.distro ?? r.os.platform} (${r.os.platform} ${r.os.arch}), kernel ${r.kernel}`,
    `cpu:        ${r.cpu.model} × ${r.cpu.count}${r.cpu.flags?.length ? ` [${r.cpu.flags.join(' ')}]` : ''}`,
    `memory:     ${formatBytes(r.memory_bytes)}`,
    `gpus:       ${gpus.length ? gpus.join('; ') : 'none'}`,
    `runtimes:   ${runtimes.join(', ')}`,
    `lockfiles:  ${r.lockfiles.length ? r.lockfiles.map((l) => `${l.path} ${shortOid(l.oid)}`).join(', ') : 'none'}`,
    ...(r.pip_freeze ? [`pip freeze: ${shortOid(r.pip_freeze)}`] : []),
    ...(r.conda ? [`conda:      ${shortOid(r.conda)}`] : []),
    ...(r.container ? [`container:  ${r.container.runtime}${r.container.image_digest ? ` ${r.container.image_digest}` : ''}${r.container.image_id ? ` image ${r.container.image_id}` : ''}`] : []),
    `random env: ${randomEnv.length ? randomEnv.join(' ') : 'none set'}`,
  ];
}

function changeLine(c: EnvChange): string {
  if (c.package !== undefined) {
    if (c.from === null) return `    package ${c.package}: added ${show(c.to)}`;
    if (c.to === null) return `    package ${c.package}: removed (was ${show(c.from)})`;
    return `    package ${c.package}: ${show(c.from)} → ${show(c.to)}`;
  }
  return `  ${c.path}: ${show(c.from)} → ${show(c.to)}`;
}

function show(v: unknown): string {
  if (v === null) return '(none)';
  if (typeof v === 'string') return /^b3:[0-9a-f]{64}$/.test(v) ? shortOid(v) : v === '' ? '(any)' : v;
  return JSON.stringify(v);
}
