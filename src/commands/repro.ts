import type { EnvCheck } from '../run/env-check.js';
import { repro as reproRuns, verifyRun, type ReproResult, type VerifyOutcome } from '../run/repro.js';
import { badUsage } from '../util/errors.js';
import { openRepo } from '../workspace/repo.js';

export type { ReproResult, VerifyOutcome } from '../run/repro.js';

export interface ReproOptions {
  cwd: string;
  /** Runs to consider (default: all in mlx.lock). */
  names?: string[];
  force?: boolean;
  quiet?: boolean;
  onWarning?: (warning: string) => void;
}

/** `mlx repro [names...]`: re-runs the recorded runs whose deps or params changed. */
export async function repro(opts: ReproOptions): Promise<ReproResult> {
  return reproRuns(await openRepo(opts.cwd), opts.names ?? [], { force: opts.force, quiet: opts.quiet, onWarning: opts.onWarning });
}

/**
 * `mlx repro --verify <name>`: compares this machine with the run's recorded environment
 * (`onEnvironment` gets that first), then re-runs it from its inputs and seed and compares every output.
 */
export async function reproVerify(opts: ReproOptions & { onEnvironment?: (check: EnvCheck | null) => void }): Promise<VerifyOutcome> {
  const names = opts.names ?? [];
  if (names.length !== 1) throw badUsage('mlx repro --verify takes exactly one run name');
  return verifyRun(await openRepo(opts.cwd), names[0]!, { quiet: opts.quiet, onEnvironment: opts.onEnvironment, onWarning: opts.onWarning });
}
