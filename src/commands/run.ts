import { parseParamSpec } from '../run/params.js';
import { runAndRecord, type Recorded } from '../run/record.js';
import { parseSeeds } from '../run/seeds.js';
import { openRepo } from '../workspace/repo.js';

export interface RunOptions {
  cwd: string;
  /** The command and its arguments. */
  cmd: string[];
  name?: string;
  deps?: string[];
  /** `file:key,key` specs, e.g. params.yaml:lr,epochs. */
  params?: string[];
  outs?: string[];
  metrics?: string[];
  /**
   * Seeds as typed: a whole number of at least 0 is the run's seed (`MLX_SEED`), `name=number` a named
   * one (`MLX_SEED_<NAME>`), e.g. `[42, 'data=7', 'init=3']`.
   */
  seed?: string | number | (string | number)[];
  /**
   * Params overrides applied to the params file before the command runs and recorded, as with
   * `dvc exp run -S`: `[file:]key.path=value` (file default params.yaml), `+key=value`, `++key=value`, `~key`.
   */
  setParams?: string[];
  /** Do not pass the command's output through. */
  quiet?: boolean;
  onWarning?: (warning: string) => void;
}

/** `mlx run`: runs a command and records it in mlx.lock. */
export async function run(opts: RunOptions): Promise<Recorded> {
  const repo = await openRepo(opts.cwd);
  const { seed, seeds } = parseSeeds(opts.seed === undefined ? [] : Array.isArray(opts.seed) ? opts.seed : [opts.seed]);
  const spec = {
    name: opts.name ?? 'default',
    cmd: opts.cmd,
    deps: opts.deps ?? [],
    params: (opts.params ?? []).map(parseParamSpec),
    outs: opts.outs ?? [],
    metrics: opts.metrics ?? [],
    seed,
    seeds,
    overrides: opts.setParams ?? [],
  };
  return runAndRecord(repo, opts.cwd, spec, { quiet: opts.quiet, onWarning: opts.onWarning });
}
