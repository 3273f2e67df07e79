import path from 'node:path';
import { parsePackages } from '../formats/package-lockfiles.js';
import { readFileIfExists } from '../util/fs.js';
import { failure, type ProbeResult, type Run } from './probe.js';

/** A compiler answers `--version` in milliseconds; only a broken install gets near this. */
export const COMPILER_TIMEOUT_MS = 10_000;

/**
 * Compiler versions by tool (`gcc`, `clang`, `nvcc`), of the ones on PATH; nvcc also from the CUDA
 * toolkit CUDA_HOME or CUDA_PATH names. A compiler that is not installed is left out.
 */
export async function probeCompilers(run: Run, env: NodeJS.ProcessEnv, warnings: string[]): Promise<Record<string, string>> {
  const nvccCandidates = ['nvcc', ...[env.CUDA_HOME, env.CUDA_PATH].filter((d): d is string => !!d).map((d) => path.join(d, 'bin', 'nvcc'))];
  const [gcc, clang, nvcc] = await Promise.all([
    run('gcc', ['--version'], COMPILER_TIMEOUT_MS),
    run('clang', ['--version'], COMPILER_TIMEOUT_MS),
    firstPresent(run, nvccCandidates),
  ]);
  const found: Record<string, string> = {};
  const take = (name: string, r: ProbeResult, parse: (text: string) => string | undefined) => {
    if (r.missing) return;
    const version = r.ok ? parse(r.stdout) : undefined;
    if (version) found[name] = version;
    else warnings.push(failure(`${name} --version`, r, COMPILER_TIMEOUT_MS));
  };
  // On macOS `gcc` is clang under another name: the clang probe reports it.
  if (!/clang/i.test(firstLine(gcc.stdout))) take('gcc', gcc, gccVersion);
  take('clang', clang, clangVersion);
  take('nvcc', nvcc, nvccVersion);
  return found;
}

async function firstPresent(run: Run, cmds: string[]): Promise<ProbeResult> {
  let r: ProbeResult | undefined;
  for (const cmd of cmds) {
    r = await run(cmd, ['--version'], COMPILER_TIMEOUT_MS);
    if (!r.missing) return r;
  }
  return r!;
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

/** `gcc (Debian 12.2.0-14+deb12u1) 12.2.0` → 12.2.0; `gcc (GCC) 13.2.1 20231205 (Red Hat 13.2.1-6)` → 13.2.1. */
export function gccVersion(text: string): string | undefined {
  const line = firstLine(text);
  return /\d+\.\d+(?:\.\d+)?/.exec(line.slice(line.indexOf(')') + 1))?.[0];
}

/** `Debian clang version 14.0.6`, `Apple clang version 15.0.0 (clang-1500.1.0.2.5)` → the version. */
export function clangVersion(text: string): string | undefined {
  return /clang version (\d[^\s]*)/.exec(firstLine(text))?.[1];
}

/** `Cuda compilation tools, release 12.4, V12.4.131` → 12.4.131. */
export function nvccVersion(text: string): string | undefined {
  const m = /release (\d+\.\d+), V(\d[\d.]*)/.exec(text);
  return m ? m[2] : undefined;
}

/** Folders searched for cuDNN and NCCL headers, the variables' first. */
export function headerDirs(env: NodeJS.ProcessEnv): string[] {
  const fromEnv = [env.CUDNN_HOME, env.CUDNN_PATH, env.NCCL_HOME, env.CUDA_HOME, env.CUDA_PATH, env.CONDA_PREFIX].filter((d): d is string => !!d).map((d) => path.join(d, 'include'));
  return [...new Set([...fromEnv, '/usr/include', '/usr/local/cuda/include', '/usr/local/include'])];
}

/**
 * cuDNN and NCCL versions. Python frameworks load them from pip wheels (nvidia-cudnn-cu12,
 * nvidia-nccl-cu12 ...), so the recorded pip freeze is read first; else the version macros of the
 * headers a build would compile against (cudnn_version.h or cudnn.h, nccl.h).
 */
export function gpuLibraries(pipFreeze: string | undefined, dirs: string[]): Record<string, string> {
  const found: Record<string, string> = {};
  const pins = pipFreeze === undefined ? undefined : parsePackages('pip', pipFreeze);
  for (const [lib, wheel] of [['cudnn', /^nvidia-cudnn-cu\d+$/], ['nccl', /^nvidia-nccl-cu\d+$/]] as const) {
    const version = [...(pins ?? [])].find(([name, v]) => wheel.test(name) && v)?.[1];
    if (version) found[lib] = version;
  }
  if (!found.cudnn) {
    const v = fromHeaders(dirs, ['cudnn_version.h', 'cudnn.h'], 'CUDNN', ['MAJOR', 'MINOR', 'PATCHLEVEL']);
    if (v) found.cudnn = v;
  }
  if (!found.nccl) {
    const v = fromHeaders(dirs, ['nccl.h'], 'NCCL', ['MAJOR', 'MINOR', 'PATCH']);
    if (v) found.nccl = v;
  }
  return found;
}

function fromHeaders(dirs: string[], names: string[], prefix: string, parts: string[]): string | undefined {
  for (const dir of dirs) {
    for (const name of names) {
      const text = readFileIfExists(path.join(dir, name));
      if (text === undefined) continue;
      const numbers = parts.map((p) => new RegExp(`^#define\\s+${prefix}_${p}\\s+(\\d+)\\b`, 'm').exec(text)?.[1]);
      if (numbers.every((n) => n !== undefined)) return numbers.join('.');
    }
  }
  return undefined;
}
