import path from 'node:path';
import { OID_ALGO } from '../hash/oid.js';
import { findRun } from '../run/catalog.js';
import { checkEnvironment, type EnvCheck } from '../run/env-check.js';
import { diffStoredEnvironments, type StoredEnvDiff } from '../run/env-diff.js';
import { EXPORT_FORMATS, exportEnvironment, type ExportFormat } from '../run/env-export.js';
import { captureEnvironment, readEnvRecord, resolveEnvRecord, type CaptureResult } from '../run/environment.js';
import { rebuildPlan, type RebuildPlan } from '../run/rebuild-plan.js';
import { environmentToRecord } from '../run/seeds.js';
import type { EnvRecord } from '../formats/env-record.js';
import type { Run } from '../formats/run-lock.js';
import type { Oid } from '../hash/oid.js';
import { badUsage, isMlxError, E, objectMissing } from '../util/errors.js';
import { writeFileAtomicSync } from '../util/fs.js';
import { openRepo, type Repo } from '../workspace/repo.js';

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
  const { oid, record, run } = await recordOf(await openRepo(opts.cwd), opts.ref);
  return { oid, record, ...(run ? { run: { name: run.name, id: run.run.id } } : {}) };
}

export interface EnvExportResult {
  format: ExportFormat;
  plan: RebuildPlan;
  /** The exported file's text. */
  text: string;
  /** Where it was written (absolute), when `output` was given. */
  written?: string;
}

/**
 * `mlx env export <run|oid> --format F [-o FILE]`: writes what rebuilds a recorded environment. The
 * text is made whole before anything is written, and the file is replaced atomically.
 */
export async function envExport(opts: { cwd: string; ref: string; format: string; output?: string }): Promise<EnvExportResult> {
  const format = EXPORT_FORMATS.find((f) => f === opts.format);
  if (!format) throw badUsage(`unknown export format ${JSON.stringify(opts.format)}: use ${EXPORT_FORMATS.join(', ')}`);
  const repo = await openRepo(opts.cwd);
  const { oid, record, run } = await recordOf(repo, opts.ref);
  const plan = rebuildPlan(oid, record, (blob) => (repo.store.has(blob) ? repo.store.readBytes(blob).toString('utf8') : undefined), run ? { name: run.name, id: run.run.id } : undefined);
  const text = exportEnvironment(plan, format);
  if (opts.output === undefined) return { format, plan, text };
  const written = path.resolve(opts.cwd, opts.output);
  writeFileAtomicSync(written, text);
  return { format, plan, text, written };
}

export interface EnvCheckResult extends EnvCheck {
  run?: { name: string; id: string };
}

/** `mlx env check <run|oid>`: what differs between this machine and a recorded environment. */
export async function envCheck(opts: { cwd: string; ref: string }): Promise<EnvCheckResult> {
  const repo = await openRepo(opts.cwd);
  const { oid, run } = await recordOf(repo, opts.ref);
  const check = await checkEnvironment(repo, oid, run ? runVariables(run.run) : undefined);
  return { ...check, ...(run ? { run: { name: run.name, id: run.run.id } } : {}) };
}

/** This shell's variables as a re-run of `run` would be recorded with them (mlx run sets the seeds' switches itself). */
function runVariables(run: Run): NodeJS.ProcessEnv {
  return environmentToRecord(process.env, run.seed, run.seeds);
}

/** An environment record named by oid (or b3: prefix), or by a run (the environment it ran in). */
async function recordOf(repo: Repo, ref: string): Promise<{ oid: Oid; record: EnvRecord; run?: { name: string; run: Run } }> {
  if (ref.startsWith(`${OID_ALGO}:`)) {
    const oid = resolveEnvRecord(repo.store, ref);
    return { oid, record: readEnvRecord(repo.store, oid) };
  }
  const { name, run } = await findRun(repo, ref);
  try {
    return { oid: run.env, record: readEnvRecord(repo.store, run.env), run: { name, run } };
  } catch (err) {
    if (!isMlxError(err, E.OBJECT_MISSING)) throw err;
    throw objectMissing(`the environment record ${run.env} of run ${name} (${run.id}) is not in the cache`, {
      hint: 'mlx fetch brings the records of the runs in mlx.lock from the remote',
      oid: run.env,
    });
  }
}
