import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ENV_RECORD_VERSION, MEMORY_GRANULE, parseEnvRecord, serializeEnvRecord, type EnvRecord, type Gpu, type Lockfile } from '../formats/env-record.js';
import { isLockfileName } from '../formats/package-lockfiles.js';
import { POINTER_SUFFIX } from '../formats/pointer.js';
import { shortOid, type Oid } from '../hash/oid.js';
import type { ObjectStore } from '../store/object-store.js';
import { resolveOid } from '../store/resolve-oid.js';
import { MlxError, isErrno, badEnvRecord, objectMissing } from '../util/errors.js';
import { readFileIfExists, writeFileAtomicSync } from '../util/fs.js';
import { compareUtf8 } from '../util/paths.js';
import { detectContainer } from './container.js';
import { failure, probe, type ProbeResult, type Run } from './probe.js';
import { deviceEnv, distributedEnv, nonEmpty, pythonEnv } from './process-settings.js';
import { gpuLibraries, headerDirs, probeCompilers } from './toolchain.js';

/**
 * Per-probe time limits. A probe that runs out is left out of the record (so the record's oid changes)
 * and reported as a warning; the limits are generous because each probe normally takes milliseconds
 * (pip: about a second) and only a wedged driver or interpreter should ever reach them.
 */
export const PROBE_TIMEOUT_MS = { gpu: 10_000, python: 15_000, pip: 20_000, conda: 30_000 } as const;

/** Variables that steer randomness, determinism or the numerics of threaded reductions. */
export const RANDOMNESS_ENV_VARS = [
  'PYTHONHASHSEED',
  'CUBLAS_WORKSPACE_CONFIG',
  'CUDA_LAUNCH_BLOCKING',
  'NVIDIA_TF32_OVERRIDE',
  'TF_DETERMINISTIC_OPS',
  'TF_CUDNN_DETERMINISTIC',
  'TF_ENABLE_ONEDNN_OPTS',
  'XLA_FLAGS',
  'OMP_NUM_THREADS',
  'MKL_NUM_THREADS',
  'MKL_CBWR',
  'OPENBLAS_NUM_THREADS',
  'NUMEXPR_NUM_THREADS',
  'VECLIB_MAXIMUM_THREADS',
  'KMP_DETERMINISTIC_REDUCTION',
  'PL_GLOBAL_SEED',
  'PL_SEED_WORKERS',
  'TORCH_ALLOW_TF32_CUBLAS_OVERRIDE',
  'TF_CUDNN_USE_AUTOTUNE',
  'NCCL_ALGO',
  'NCCL_PROTO',
  'JAX_ENABLE_X64',
  'JAX_DEFAULT_MATMUL_PRECISION',
  'MLX_SEED',
] as const;

/** Named seeds (`MLX_SEED_DATA`, ...) are randomness variables too. */
const SEED_PREFIX = 'MLX_SEED_';

/** CPU extensions numeric libraries dispatch on; the rest of /proc/cpuinfo's flags is left out as noise. */
const CPU_FLAGS = new Set([
  'sse4_1', 'sse4_2', 'avx', 'avx2', 'fma', 'f16c', 'avx_vnni',
  'avx512f', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512vl', 'avx512_vnni', 'avx512_bf16', 'avx512_fp16',
  'amx_tile', 'amx_bf16', 'amx_int8',
  'asimd', 'asimdhp', 'fphp', 'sve', 'sve2', 'bf16', 'i8mm',
]);

/** Folders never searched for lockfiles (besides hidden ones and folders tracked by mlx). */
const SKIP_DIRS = new Set(['node_modules', '__pycache__', 'site-packages']);

export interface CaptureContext {
  root: string;
  store: ObjectStore;
  /** The environment to read and to run probes with (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

export interface CaptureResult {
  oid: Oid;
  record: EnvRecord;
  /** Probes that failed or timed out, so the record lacks what they would have added. */
  warnings: string[];
}

/**
 * Records the environment a run executes in and stores it (canonical JSON) in the object store.
 * The external probes (nvidia-smi, rocm-smi, python, pip, conda, gcc, clang, nvcc) run in parallel with short time
 * limits; a tool that is not installed is simply absent from the record. Lockfiles, pip freeze and
 * conda output are stored as blobs and referenced by oid.
 */
export async function captureEnvironment(ctx: CaptureContext): Promise<CaptureResult> {
  const env = ctx.env ?? process.env;
  const warnings: string[] = [];
  // pip's self-update check would go to the network; nothing here should.
  const spawnEnv = { ...env, PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1' };
  const run = (cmd: string, args: string[], timeoutMs: number) => probe(cmd, args, { cwd: ctx.root, env: spawnEnv, timeoutMs });

  const slow = Promise.all([
    probeGpus(run, env, warnings),
    run('python3', ['--version'], PROBE_TIMEOUT_MS.python),
    run('python', ['--version'], PROBE_TIMEOUT_MS.python),
    pipFreeze(run, warnings, path.join(ctx.root, '.mlx', 'state', 'pip-freeze.json')),
    env.CONDA_PREFIX ? condaExport(run, env, warnings) : Promise.resolve(undefined),
    probeCompilers(run, env, warnings),
  ]);

  // The synchronous parts run while the probes do.
  const lockfiles = findLockfiles(ctx.root).map((rel): Lockfile => ({ path: rel, ...ctx.store.importFile(path.join(ctx.root, rel)) }));
  const container = detectContainer(env);
  const random_env: Record<string, string> = {};
  for (const name of RANDOMNESS_ENV_VARS) if (env[name] !== undefined) random_env[name] = env[name]!;
  for (const name of Object.keys(env).filter((n) => n.startsWith(SEED_PREFIX)).sort(compareUtf8)) random_env[name] = env[name]!;
  const cpus = os.cpus();
  const cpuinfo = process.platform === 'linux' ? readFileIfExists('/proc/cpuinfo') : undefined;

  const [gpus, py3, py, freeze, conda, compilers] = await slow;
  const gpuLibs = gpuLibraries(freeze, headerDirs(env));
  const runtimes: EnvRecord['runtimes'] = { node: process.versions.node };
  const v3 = pythonVersion(py3);
  const v = pythonVersion(py);
  if (v3 ?? v) runtimes.python = (v3 ?? v)!;
  // When the bare `python` runs something else than python3, both matter: record both.
  if (v3 && v && v !== v3) runtimes.python_cmd = v;

  const record: EnvRecord = {
    v: ENV_RECORD_VERSION,
    os: { platform: process.platform, release: os.release(), version: os.version(), arch: process.arch, distro: linuxDistro() },
    kernel: `${os.type()} ${os.release()}`,
    cpu: {
      model: cpuModel(cpus, cpuinfo),
      count: cpus.length || os.availableParallelism(),
      flags: cpuFlags(cpuinfo),
    },
    memory_bytes: Math.round(os.totalmem() / MEMORY_GRANULE) * MEMORY_GRANULE,
    gpus,
    runtimes,
    lockfiles,
    pip_freeze: freeze === undefined ? undefined : ctx.store.putBytes(Buffer.from(withRootAsDot(freeze, ctx.root))),
    conda: conda === undefined ? undefined : ctx.store.putBytes(Buffer.from(withRootAsDot(conda, ctx.root))),
    container,
    random_env,
    compilers: nonEmpty(compilers),
    gpu_libs: nonEmpty(gpuLibs),
    device_env: deviceEnv(env),
    python_env: pythonEnv(env, ctx.root),
    distributed: distributedEnv(env),
  };
  const oid = ctx.store.putBytes(Buffer.from(serializeEnvRecord(record)));
  return { oid, record: readEnvRecord(ctx.store, oid), warnings };
}

/** Reads and checks an environment record from the store. */
export function readEnvRecord(store: ObjectStore, oid: Oid): EnvRecord {
  const size = fs.statSync(store.pathOf(oid), { throwIfNoEntry: false })?.size;
  if (size === undefined) throw missingRecord(oid);
  // Records are a few KiB; anything large is some other object, and not worth reading into memory.
  if (size > 4 << 20) throw badEnvRecord(`object ${shortOid(oid)} is not an environment record (${size} bytes)`, { oid });
  return parseEnvRecord(store.readBytes(oid).toString('utf8'), shortOid(oid));
}

/** The environment record a full oid or a `b3:` prefix (of 8+ hex digits) names in the store. */
export function resolveEnvRecord(store: ObjectStore, ref: string): Oid {
  const oid = resolveOid(store, ref);
  if (oid === undefined) throw missingRecord(ref.trim().toLowerCase());
  return oid;
}

function missingRecord(ref: string): MlxError {
  return objectMissing(`environment record ${ref} is not in the cache`, {
    hint: 'check the oid (mlx env capture prints it), or fetch it from a remote',
    oid: ref,
  });
}

// ---- probes ----

async function probeGpus(run: Run, env: NodeJS.ProcessEnv, warnings: string[]): Promise<Gpu[]> {
  const [nvidia, rocm] = await Promise.all([nvidiaGpus(run, warnings), amdGpus(run, env, warnings)]);
  return [...nvidia, ...rocm];
}

async function nvidiaGpus(run: Run, warnings: string[]): Promise<Gpu[]> {
  const [query, summary] = await Promise.all([
    run('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader,nounits'], PROBE_TIMEOUT_MS.gpu),
    run('nvidia-smi', [], PROBE_TIMEOUT_MS.gpu),
  ]);
  if (query.missing) return [];
  if (!query.ok) {
    warnings.push(failure('nvidia-smi', query, PROBE_TIMEOUT_MS.gpu));
    return [];
  }
  const cuda = /CUDA Version:\s*([0-9.]+)/.exec(summary.stdout)?.[1];
  const gpus: Gpu[] = [];
  for (const line of query.stdout.split('\n')) {
    const fields = line.split(',').map((f) => f.trim());
    if (fields.length < 3) continue;
    // A name could hold a comma; driver and memory never do.
    const mib = Number(fields.at(-1));
    const gpu: Gpu = { vendor: 'nvidia', name: fields.slice(0, -2).join(', '), driver: fields.at(-2)! };
    if (Number.isFinite(mib) && mib > 0) gpu.memory_bytes = Math.round(mib * 1024 * 1024);
    if (cuda) gpu.cuda = cuda;
    gpus.push(gpu);
  }
  return gpus;
}

async function amdGpus(run: Run, env: NodeJS.ProcessEnv, warnings: string[]): Promise<Gpu[]> {
  const r = await run('rocm-smi', ['--showproductname', '--showdriverversion', '--json'], PROBE_TIMEOUT_MS.gpu);
  if (r.missing) return [];
  let parsed: Record<string, Record<string, string>>;
  try {
    if (!r.ok) throw new Error();
    parsed = JSON.parse(r.stdout) as Record<string, Record<string, string>>;
  } catch {
    warnings.push(failure('rocm-smi', r, PROBE_TIMEOUT_MS.gpu));
    return [];
  }
  const rocm = readFileIfExists(path.join(env.ROCM_PATH || '/opt/rocm', '.info/version'))?.trim();
  const systemDriver = parsed.system?.['Driver version'];
  const gpus: Gpu[] = [];
  for (const key of Object.keys(parsed).filter((k) => /^card\d+$/.test(k)).sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)))) {
    const card = parsed[key]!;
    const gpu: Gpu = {
      vendor: 'amd',
      name: card['Card Series'] ?? card['Card series'] ?? card['Card model'] ?? card['Card SKU'] ?? 'unknown',
      driver: card['Driver version'] ?? systemDriver ?? 'unknown',
    };
    if (rocm) gpu.rocm = rocm;
    gpus.push(gpu);
  }
  return gpus;
}

function pythonVersion(r: ProbeResult): string | undefined {
  // Python 2 printed its version on stderr.
  return r.ok ? /Python\s+(\S+)/.exec(`${r.stdout}\n${r.stderr}`)?.[1] : undefined;
}

/** `python3 -m pip freeze` (or `python -m pip` where there is no python3); undefined without pip. */
async function pipFreeze(run: Run, warnings: string[], cacheFile?: string): Promise<string | undefined> {
  // pip freeze takes seconds on a large environment; its answer only changes when a site-packages
  // folder does, so it is kept keyed on the interpreter and those folders' modification times.
  const key = cacheFile ? await sitePackagesKey(run) : undefined;
  if (key && cacheFile) {
    try {
      const cached = JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as { key?: string; output?: string };
      if (cached.key === key && typeof cached.output === 'string') return cached.output;
    } catch {
      // no cache yet, or unreadable: ask pip
    }
  }
  let r = await run('python3', ['-m', 'pip', 'freeze'], PROBE_TIMEOUT_MS.pip);
  if (r.missing) r = await run('python', ['-m', 'pip', 'freeze'], PROBE_TIMEOUT_MS.pip);
  if (r.ok) {
    if (key && cacheFile) {
      try {
        fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
        writeFileAtomicSync(cacheFile, JSON.stringify({ key, output: r.stdout }), { durable: false });
      } catch {
        // a cache that cannot be written only costs time
      }
    }
    return r.stdout;
  }
  // No interpreter, or one without pip: nothing to record, nothing to warn about.
  if (r.missing || /No module named pip|command not found|not installed/i.test(r.stderr)) return undefined;
  warnings.push(failure('pip freeze', r, PROBE_TIMEOUT_MS.pip));
  return undefined;
}

/** The interpreter and the modification times of its package folders, or undefined without python. */
async function sitePackagesKey(run: Run): Promise<string | undefined> {
  const script = 'import site,sys;print(sys.executable);print(sys.version);[print(p) for p in site.getsitepackages()+[site.getusersitepackages()]]';
  let r = await run('python3', ['-c', script], PROBE_TIMEOUT_MS.python);
  if (r.missing) r = await run('python', ['-c', script], PROBE_TIMEOUT_MS.python);
  if (!r.ok) return undefined;
  const lines = r.stdout.trim().split('\n');
  const dirs = lines.slice(2).map((d) => `${d}:${fs.statSync(d, { throwIfNoEntry: false })?.mtimeMs ?? 'absent'}`);
  return [lines[0], lines[1], ...dirs].join('|');
}

/** `conda env export` of the active environment, without its `prefix:` line (a host path). */
async function condaExport(run: Run, env: NodeJS.ProcessEnv, warnings: string[]): Promise<string | undefined> {
  // conda is often a shell function; CONDA_EXE names the real executable.
  const r = await run(env.CONDA_EXE || 'conda', ['env', 'export'], PROBE_TIMEOUT_MS.conda);
  if (r.missing) return undefined;
  if (!r.ok) {
    warnings.push(failure('conda env export', r, PROBE_TIMEOUT_MS.conda));
    return undefined;
  }
  return r.stdout
    .split('\n')
    .filter((l) => !/^prefix:/.test(l))
    .join('\n');
}

/**
 * Replaces the project root's absolute path (as in `-e /home/alice/proj` of an editable install) by `.`,
 * so two checkouts of the same project in different folders record the same packages.
 */
function withRootAsDot(text: string, root: string): string {
  if (root.length <= 1) return text;
  const escaped = root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text.replace(new RegExp(`${escaped}(?=[/\\s"']|$)`, 'gm'), '.');
}

// ---- machine ----

function linuxDistro(): string | undefined {
  const text = readFileIfExists('/etc/os-release') ?? readFileIfExists('/usr/lib/os-release');
  if (text === undefined) return undefined;
  const field = (name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(text)?.[1]?.trim().replace(/^(["'])(.*)\1$/, '$2');
  return field('PRETTY_NAME') ?? ([field('NAME'), field('VERSION_ID')].filter(Boolean).join(' ') || undefined);
}

function cpuModel(cpus: os.CpuInfo[], cpuinfo: string | undefined): string {
  const fromOs = cpus[0]?.model.trim();
  if (fromOs && fromOs !== 'unknown') return fromOs.replace(/\s+/g, ' ');
  const fromProc = cpuinfo && /^(?:model name|Hardware|Processor|cpu model)\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim();
  return fromProc || 'unknown';
}

function cpuFlags(cpuinfo: string | undefined): string[] | undefined {
  const line = cpuinfo && /^(?:flags|Features)\s*:\s*(.*)$/m.exec(cpuinfo)?.[1];
  if (!line) return undefined;
  return [...new Set(line.split(/\s+/).filter((f) => CPU_FLAGS.has(f)))].sort();
}

// ---- lockfiles ----

/**
 * Repo-relative paths of the package lockfiles in the root and one level down, sorted. Hidden folders,
 * node_modules-like folders and folders tracked by mlx (`data/` next to `data.mlx`) are not listed,
 * so a dataset of a million files costs nothing. Only regular files count (no symlinks).
 */
export function findLockfiles(root: string): string[] {
  const found: string[] = [];
  const top = readDir(root);
  const names = new Set(top.map((d) => d.name));
  for (const d of top) {
    if (d.isFile() && isLockfileName(d.name, false)) found.push(d.name);
    if (!d.isDirectory() || d.name.startsWith('.') || SKIP_DIRS.has(d.name) || names.has(d.name + POINTER_SUFFIX)) continue;
    for (const sub of readDir(path.join(root, d.name))) {
      if (sub.isFile() && isLockfileName(sub.name, d.name === 'requirements')) found.push(`${d.name}/${sub.name}`);
    }
  }
  return found.sort(compareUtf8);
}

function readDir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'EACCES', 'ENOTDIR', 'EPERM')) return [];
    throw err;
  }
}
