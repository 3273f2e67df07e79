import { SEED_NAME } from '../formats/run-lock.js';
import { badUsage } from '../util/errors.js';

/** The seeds of a run: the plain one (`--seed 42`) and the named ones (`--seed data=7`). */
export interface RunSeeds {
  seed: number | null;
  /** name → seed; empty when none was named. */
  seeds: Record<string, number>;
}

/**
 * Reads `--seed` values as typed: `42` is the run's seed, `name=7` a named one (one per phase: data
 * order, weight init, ...). Each is a whole number of at least 0; a name is given once.
 */
export function parseSeeds(given: readonly (string | number)[]): RunSeeds {
  const out: RunSeeds = { seed: null, seeds: {} };
  for (const g of given) {
    const text = String(g).trim();
    const eq = text.indexOf('=');
    const name = eq < 0 ? undefined : text.slice(0, eq).trim();
    const value = seedNumber(eq < 0 ? text : text.slice(eq + 1).trim(), text);
    if (name === undefined) {
      if (out.seed !== null) throw badUsage(`--seed given twice without a name (${out.seed} and ${value}): name the others, e.g. --seed data=${value}`);
      out.seed = value;
      continue;
    }
    if (!SEED_NAME.test(name)) throw badUsage(`--seed ${text}: a seed name uses lowercase letters, digits and _, starting with a letter (it is exported as MLX_SEED_<NAME>)`);
    if (name in out.seeds) throw badUsage(`--seed ${name} given twice (${out.seeds[name]} and ${value})`);
    out.seeds[name] = value;
  }
  return out;
}

function seedNumber(text: string, given: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) throw badUsage(`--seed expects a whole number of at least 0 (or name=number), got ${given}`);
  return n;
}

/**
 * Environment variables that make the seeds the single source of truth for common frameworks: the
 * plain seed as `MLX_SEED`, `PYTHONHASHSEED` and Lightning's `PL_GLOBAL_SEED`, each named seed as
 * `MLX_SEED_<NAME>`, and, when any seed is given, the switches for deterministic TensorFlow ops and
 * cuBLAS. Documented in spec/run.md.
 */
export function seedEnvironment(seed: number | null, seeds: Record<string, number> = {}): Record<string, string> {
  const named = Object.entries(seeds);
  if (seed === null && named.length === 0) return {};
  const env: Record<string, string> = {};
  if (seed !== null) {
    env.MLX_SEED = String(seed);
    env.PYTHONHASHSEED = String(seed);
    env.PL_GLOBAL_SEED = String(seed); // PyTorch Lightning's seed_everything()
  }
  for (const [name, value] of named) env[`MLX_SEED_${name.toUpperCase()}`] = String(value);
  env.TF_DETERMINISTIC_OPS = '1';
  env.CUBLAS_WORKSPACE_CONFIG = ':4096:8'; // deterministic cuBLAS (PyTorch use_deterministic_algorithms)
  return env;
}

/**
 * The variables an environment record is captured from for a run: `base` with what mlx run sets, less
 * the variables that carry the seeds' values. The run record holds the seeds; leaving their values out
 * of the environment record keeps it the same for every run of a seed sweep on one machine.
 */
export function environmentToRecord(base: NodeJS.ProcessEnv, seed: number | null, seeds: Record<string, number> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, ...seedEnvironment(seed, seeds) };
  if (seed !== null) for (const name of ['MLX_SEED', 'PYTHONHASHSEED', 'PL_GLOBAL_SEED']) delete env[name];
  for (const name of Object.keys(seeds)) delete env[`MLX_SEED_${name.toUpperCase()}`];
  return env;
}
