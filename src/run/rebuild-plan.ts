import type { EnvRecord, Gpu } from '../formats/env-record.js';
import { kindOfLockfile, parsePackages, pipRequirements, requirementLines } from '../formats/package-lockfiles.js';
import type { Oid } from '../hash/oid.js';
import { objectMissing } from '../util/errors.js';
import { compareUtf8 } from '../util/paths.js';

/**
 * What rebuilds a recorded environment, read out of its record and blobs: the interpreter, the pinned
 * packages and where they came from, the container image, and the machine facts a package manager
 * cannot install (GPU driver, CUDA, OS) as constraints to state. Every export format is written from it,
 * and `--format json` prints it as it is.
 */
export interface RebuildPlan {
  /** The environment record. */
  env: Oid;
  /** The run whose environment it is, when a run was named. */
  run?: { name: string; id: string };
  python?: string;
  node?: string;
  os: { platform: string; arch: string; distro?: string; kernel: string };
  container?: EnvRecord['container'];
  gpus: Pick<Gpu, 'vendor' | 'name' | 'driver' | 'cuda' | 'rocm'>[];
  compilers: Record<string, string>;
  gpu_libs: Record<string, string>;
  /** Python packages as pip requirement lines, from the first source that has them (see PYTHON_SOURCES). */
  python_packages?: { source: string; oid: Oid; requirements: string[] };
  /** A conda environment file: the recorded `conda env export`, else the project's environment.yml. */
  conda?: { source: string; oid: Oid; text: string };
  /** npm packages (name → version) of the project's package-lock.json. */
  npm?: { source: string; oid: Oid; packages: Record<string, string> };
  /** Variables the run had that steer determinism and device choice (random_env, device_env). */
  env_vars: Record<string, string>;
}

/** Returns a blob's bytes, or undefined when the cache lacks it. */
export type BlobText = (oid: Oid) => string | undefined;

/**
 * Where Python packages come from, best first: what pip said was installed, then the project's own
 * lockfiles (exact pins), then requirements files (which may pin less), then a conda file's pip list.
 */
const PYTHON_SOURCES = ['uv.lock', 'poetry.lock', 'Pipfile.lock', 'requirements.txt'];

export function rebuildPlan(oid: Oid, record: EnvRecord, readText: BlobText, run?: { name: string; id: string }): RebuildPlan {
  const need = (blob: Oid, what: string): string => {
    const text = readText(blob);
    if (text === undefined) {
      throw objectMissing(`${what} (${blob}) of environment ${oid} is not in the cache`, { hint: 'mlx fetch brings the environments of the runs in mlx.lock and their blobs from the remote', oid: blob });
    }
    return text;
  };
  const plan: RebuildPlan = {
    env: oid,
    ...(run ? { run } : {}),
    ...(record.runtimes.python ? { python: record.runtimes.python } : {}),
    node: record.runtimes.node,
    os: { platform: record.os.platform, arch: record.os.arch, ...(record.os.distro ? { distro: record.os.distro } : {}), kernel: record.kernel },
    ...(record.container ? { container: record.container } : {}),
    gpus: record.gpus.map(({ vendor, name, driver, cuda, rocm }) => ({ vendor, name, driver, ...(cuda ? { cuda } : {}), ...(rocm ? { rocm } : {}) })),
    compilers: record.compilers ?? {},
    gpu_libs: record.gpu_libs ?? {},
    env_vars: { ...record.random_env, ...record.device_env },
  };

  if (record.pip_freeze) {
    plan.python_packages = { source: 'pip freeze', oid: record.pip_freeze, requirements: requirementLines(need(record.pip_freeze, 'the pip freeze')) };
  } else {
    for (const l of pythonLockfiles(record)) {
      const requirements = pipRequirements(kindOfLockfile(l.path)!, need(l.oid, l.path));
      if (requirements?.length) {
        plan.python_packages = { source: l.path, oid: l.oid, requirements };
        break;
      }
    }
  }

  const condaFile = record.lockfiles.find((l) => kindOfLockfile(l.path) === 'conda' && !l.path.includes('/'));
  if (record.conda) plan.conda = { source: 'conda env export', oid: record.conda, text: need(record.conda, 'the conda environment') };
  else if (condaFile) plan.conda = { source: condaFile.path, oid: condaFile.oid, text: need(condaFile.oid, condaFile.path) };
  if (!plan.python_packages && plan.conda) {
    const requirements = pipRequirements('conda', plan.conda.text);
    if (requirements?.length) plan.python_packages = { source: `${plan.conda.source} (pip)`, oid: plan.conda.oid, requirements };
  }

  const npmLock = record.lockfiles.find((l) => l.path === 'package-lock.json');
  if (npmLock) {
    const packages = parsePackages('npm', need(npmLock.oid, npmLock.path));
    if (packages) plan.npm = { source: npmLock.path, oid: npmLock.oid, packages: Object.fromEntries([...packages].sort(([a], [b]) => compareUtf8(a, b))) };
  }
  return plan;
}

/** The record's Python lockfiles in the order they are trusted: by PYTHON_SOURCES, the project root before subfolders. */
function pythonLockfiles(record: EnvRecord): EnvRecord['lockfiles'] {
  const rank = (p: string): number => {
    const name = p.slice(p.lastIndexOf('/') + 1);
    const i = PYTHON_SOURCES.indexOf(name);
    const kind = i >= 0 ? i : /^requirements.*\.txt$/.test(name) ? PYTHON_SOURCES.length : PYTHON_SOURCES.length + 1;
    return (p.includes('/') ? 100 : 0) + kind;
  };
  return record.lockfiles
    .filter((l) => ['pip', 'toml', 'pipfile'].includes(kindOfLockfile(l.path) ?? '') && !l.path.endsWith('Cargo.lock'))
    .sort((a, b) => rank(a.path) - rank(b.path) || compareUtf8(a.path, b.path));
}
