import type { EnvRecord } from '../../formats/env-record.js';
import { isOid, shortOid } from '../../hash/oid.js';
import type { EnvCheck } from '../../run/env-check.js';
import type { EnvChange, StoredEnvDiff } from '../../run/env-diff.js';
import { formatBytes } from '../output.js';

/** Environment records and their differences as text. */

/** One line per part of the machine: OS, CPU, memory, GPUs, runtimes, lockfiles, container, random env. */
export function envSummary(r: EnvRecord): string[] {
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
    ...(r.container ? [`container:  ${containerLine(r.container)}`] : []),
    ...(toolchain(r).length ? [`toolchain:  ${toolchain(r).join(', ')}`] : []),
    ...(r.python_env ? [`python env: ${pythonEnvLine(r.python_env)}`] : []),
    ...(r.device_env ? [`devices:    ${assignments(r.device_env)}`] : []),
    ...(r.distributed ? [`distributed: ${assignments(r.distributed)}`] : []),
    `random env: ${randomEnv.length ? randomEnv.join(' ') : 'none set'}`,
  ];
}

function containerLine(c: NonNullable<EnvRecord['container']>): string {
  return [c.runtime, c.image, c.image_digest, c.image_id ? `image ${c.image_id}` : undefined].filter(Boolean).join(' ');
}

/** Compilers and GPU libraries, `gcc 12.2.0`, `cudnn 9.1.0`. */
function toolchain(r: EnvRecord): string[] {
  return [...Object.entries(r.compilers ?? {}), ...Object.entries(r.gpu_libs ?? {})].map(([name, v]) => `${name} ${v}`);
}

function pythonEnvLine(p: NonNullable<EnvRecord['python_env']>): string {
  return [p.venv === undefined ? undefined : `venv ${p.venv}`, p.conda === undefined ? undefined : `conda ${p.conda}`].filter(Boolean).join(', ');
}

function assignments(vars: Record<string, string>): string {
  return Object.entries(vars).map(([k, v]) => `${k}=${v}`).join(' ');
}

/**
 * A stored record in full, one section per part of the machine, for `mlx env show`. Package lockfiles,
 * pip freeze and conda are blobs: their oids are listed (their text is in the cache under that oid).
 */
export function envRecordLines(r: EnvRecord): string[] {
  const field = (name: string, v: string) => `  ${`${name}:`.padEnd(9)} ${v}`;
  const blobs = [...r.lockfiles.map((l) => [l.path, `${shortOid(l.oid)}  ${formatBytes(l.size)}`]), ...(r.pip_freeze ? [['pip freeze', shortOid(r.pip_freeze)]] : []), ...(r.conda ? [['conda env', shortOid(r.conda)]] : [])];
  const width = Math.max(0, ...blobs.map(([p]) => p!.length));
  const c = r.container;
  return [
    'system',
    field('os', `${r.os.distro ?? r.os.platform} (${r.os.platform} ${r.os.arch})`),
    field('kernel', r.kernel),
    field('build', r.os.version || '-'),
    field('memory', formatBytes(r.memory_bytes)),
    'cpu',
    field('model', r.cpu.model),
    field('count', String(r.cpu.count)),
    ...(r.cpu.flags?.length ? [field('flags', r.cpu.flags.join(' '))] : []),
    'gpus',
    ...(r.gpus.length ? r.gpus.map((g) => `  ${g.vendor} ${g.name}: driver ${g.driver}${g.cuda ? `, CUDA ${g.cuda}` : ''}${g.rocm ? `, ROCm ${g.rocm}` : ''}${g.memory_bytes ? `, ${formatBytes(g.memory_bytes)}` : ''}`) : ['  none']),
    'runtimes',
    ...Object.entries(r.runtimes).map(([name, v]) => field(name, v)),
    'packages',
    ...(blobs.length ? blobs.map(([p, v]) => `  ${p!.padEnd(width)}  ${v}`) : ['  no lockfiles found']),
    ...(c ? ['container', field('runtime', c.runtime), ...(c.image ? [field('image', c.image)] : []), ...(c.image_digest ? [field('digest', c.image_digest)] : []), ...(c.image_id ? [field('image id', c.image_id)] : [])] : []),
    ...(toolchain(r).length ? ['toolchain', ...Object.entries({ ...r.compilers, ...r.gpu_libs }).map(([name, v]) => field(name, v))] : []),
    ...(r.python_env ? ['python env', ...(r.python_env.venv === undefined ? [] : [field('venv', r.python_env.venv)]), ...(r.python_env.conda === undefined ? [] : [field('conda', r.python_env.conda)])] : []),
    ...(r.device_env ? ['devices', ...Object.entries(r.device_env).map(([k, v]) => `  ${k}=${v}`)] : []),
    ...(r.distributed ? ['distributed', ...Object.entries(r.distributed).map(([k, v]) => `  ${k}=${v}`)] : []),
    'random env',
    ...(Object.keys(r.random_env).length ? Object.entries(r.random_env).map(([k, v]) => `  ${k}=${v}`) : ['  none set']),
  ];
}

/** A headline (how many fields changed), then one line per changed field and package. */
export function envDiffLines(d: StoredEnvDiff): string[] {
  if (d.changes.length === 0) return [`${shortOid(d.a)} and ${shortOid(d.b)}: same environment`];
  return [`${shortOid(d.a)} → ${shortOid(d.b)}: ${d.changes.filter((c) => !c.package).length} field(s) changed`, ...d.changes.map(changeLine)];
}

/**
 * `mlx env check` and the head of `mlx repro --verify`: the recorded environment against this
 * machine, one line per difference (packages indented under their lockfile or pip freeze).
 */
export function envCheckLines(c: EnvCheck, run?: { name: string; id?: string }): string[] {
  const head = `environment${run ? ` of run ${run.name}${run.id ? ` (${run.id})` : ''}` : ''}: recorded ${shortOid(c.recorded)}, this machine ${shortOid(c.current)}`;
  if (c.same) return [head, '  this machine matches the recorded environment'];
  const fields = c.changes.filter((ch) => !ch.package).length;
  const packages = c.changes.length - fields;
  return [head, ...c.changes.map(changeLine), `  ${fields} field(s)${packages ? ` and ${packages} package(s)` : ''} differ (recorded → this machine)`];
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
  if (typeof v === 'string') return isOid(v) ? shortOid(v) : v === '' ? '(any)' : v;
  return JSON.stringify(v);
}
