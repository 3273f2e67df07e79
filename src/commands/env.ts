import { OID_ALGO } from '../hash/oid.js';
import { findRun } from '../run/catalog.js';
import { diffStoredEnvironments, type StoredEnvDiff } from '../run/env-diff.js';
import { captureEnvironment, type CaptureResult } from '../run/environment.js';
import { openRepo } from '../workspace/repo.js';

/** `mlx env capture`: records this machine's environment in the cache. */
export async function envCapture(opts: { cwd: string }): Promise<CaptureResult> {
  return captureEnvironment(await openRepo(opts.cwd));
}

/** `mlx env diff <a> <b>`: what changed between two environment records, or the environments of two runs. */
export async function envDiff(opts: { cwd: string; a: string; b: string }): Promise<StoredEnvDiff> {
  const repo = await openRepo(opts.cwd);
  // A run (id, id prefix or name) stands for the environment it ran in.
  const envOf = async (ref: string) => (ref.startsWith(`${OID_ALGO}:`) ? ref : (await findRun(repo, ref)).run.env);
  return diffStoredEnvironments(repo.store, await envOf(opts.a), await envOf(opts.b));
}
