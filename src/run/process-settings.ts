import path from 'node:path';
import type { EnvRecord } from '../formats/env-record.js';

/*
 * Settings a run inherits from the process environment besides the randomness variables: which
 * devices it sees, which Python environment is active, and how a distributed job placed it. Values
 * that name a host (addresses) or change per job (ports) are recorded as present only.
 */

/** Device selection: which GPUs a process sees and in what order it numbers them. */
export const DEVICE_ENV_VARS = ['CUDA_VISIBLE_DEVICES', 'CUDA_DEVICE_ORDER', 'NVIDIA_VISIBLE_DEVICES', 'HIP_VISIBLE_DEVICES', 'ROCR_VISIBLE_DEVICES'] as const;

/** A distributed job's shape and this process's place in it (torchrun, Slurm, Open MPI). */
export const DISTRIBUTED_ENV_VARS = [
  'WORLD_SIZE', 'RANK', 'LOCAL_RANK', 'LOCAL_WORLD_SIZE', 'NODE_RANK',
  'SLURM_NNODES', 'SLURM_NTASKS', 'SLURM_PROCID',
  'OMPI_COMM_WORLD_SIZE', 'OMPI_COMM_WORLD_RANK',
] as const;

/** Recorded as `set` when present: their values are host names and per-job ports. */
export const PRESENCE_ONLY_VARS = ['MASTER_ADDR', 'MASTER_PORT'] as const;

export function deviceEnv(env: NodeJS.ProcessEnv): Record<string, string> | undefined {
  return nonEmpty(pick(env, DEVICE_ENV_VARS));
}

export function distributedEnv(env: NodeJS.ProcessEnv): Record<string, string> | undefined {
  const found = pick(env, DISTRIBUTED_ENV_VARS);
  for (const name of PRESENCE_ONLY_VARS) if (env[name]) found[name] = 'set';
  return nonEmpty(found);
}

/**
 * The active virtualenv (VIRTUAL_ENV: relative to the project when inside it, else the folder's name)
 * and conda environment (CONDA_DEFAULT_ENV, or CONDA_PREFIX's folder name). Never an absolute path.
 */
export function pythonEnv(env: NodeJS.ProcessEnv, root: string): EnvRecord['python_env'] {
  const out: NonNullable<EnvRecord['python_env']> = {};
  if (env.VIRTUAL_ENV) {
    const rel = path.relative(root, env.VIRTUAL_ENV);
    out.venv = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : path.basename(env.VIRTUAL_ENV);
  }
  const conda = env.CONDA_DEFAULT_ENV || env.CONDA_PREFIX;
  // An environment activated by path is named by its folder.
  if (conda) out.conda = conda.includes('/') || conda.includes('\\') ? path.basename(conda) : conda;
  return out.venv === undefined && out.conda === undefined ? undefined : out;
}

function pick(env: NodeJS.ProcessEnv, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) if (env[name] !== undefined) out[name] = env[name]!;
  return out;
}

/** The record itself, or undefined when it has no entries (absent fields keep records short). */
export function nonEmpty(r: Record<string, string>): Record<string, string> | undefined {
  return Object.keys(r).length ? r : undefined;
}
