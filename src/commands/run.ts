import { parseParamSpec } from '../run/params.js';
import { runAndRecord, type Recorded } from '../run/record.js';
import { badUsage } from '../util/errors.js';
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
  /** The seed as typed; a whole number of at least 0. */
  seed?: string | number;
  /** Do not pass the command's output through. */
  quiet?: boolean;
  onWarning?: (warning: string) => void;
}

/** `mlx run`: runs a command and records it in mlx.lock. */
export async function run(opts: RunOptions): Promise<Recorded> {
  const repo = await openRepo(opts.cwd);
  let seed: number | null = null;
  if (opts.seed !== undefined) {
    seed = Number(opts.seed);
    if (!Number.isSafeInteger(seed) || seed < 0) throw badUsage(`--seed expects a whole number of at least 0, got ${opts.seed}`);
  }
  const spec = {
    name: opts.name ?? 'default',
    cmd: opts.cmd,
    deps: opts.deps ?? [],
    params: (opts.params ?? []).map(parseParamSpec),
    outs: opts.outs ?? [],
    metrics: opts.metrics ?? [],
    seed,
  };
  return runAndRecord(repo, opts.cwd, spec, { quiet: opts.quiet, onWarning: opts.onWarning });
}
