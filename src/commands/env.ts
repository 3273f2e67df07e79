import { OID_ALGO } from '../hash/oid.js';
import { findRun } from '../run/catalog.js';
import { diffStoredEnvironments, type StoredEnvDiff } from '../run/env-diff.js';
import { captureEnvironment, readEnvRecord, resolveEnvRecord, type CaptureResult } from '../run/environment.js';
import type { EnvRecord } from '../formats/env-record.js';
import type { Oid } from '../hash/oid.js';
import { isMlxError, E, objectMissing } from '../util/errors.js';
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

export interface EnvShowResult {
  oid: Oid;
  record: EnvRecord;
  /** The run whose environment this is, when a run was named. */
  run?: { name: string; id: string };
}

/** `mlx env show <oid|run>`: a stored environment record, named by oid (or b3: prefix) or by a run. */
export async function envShow(opts: { cwd: string; ref: string }): Promise<EnvShowResult> {
  const repo = await openRepo(opts.cwd);
  if (opts.ref.startsWith(`${OID_ALGO}:`)) {
    const oid = resolveEnvRecord(repo.store, opts.ref);
    return { oid, record: readEnvRecord(repo.store, oid) };
  }
  const { name, run } = await findRun(repo, opts.ref);
  try {
    return { oid: run.env, record: readEnvRecord(repo.store, run.env), run: { name, id: run.id } };
  } catch (err) {
    if (!isMlxError(err, E.OBJECT_MISSING)) throw err;
    throw objectMissing(`the environment record ${run.env} of run ${name} (${run.id}) is not in the cache`, {
      hint: 'mlx fetch brings the records of the runs in mlx.lock from the remote',
      oid: run.env,
    });
  }
}
