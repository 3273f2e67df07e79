import { isDeepStrictEqual } from 'node:util';
import { keyOf, type Artifact, type Run } from '../formats/run-lock.js';
import { E, MlxError, isMlxError, runFailed, unknownRun } from '../util/errors.js';
import { checkout } from '../workspace/checkout.js';
import { absPath, type Repo } from '../workspace/repo.js';
import { StatIndex } from '../workspace/stat-index.js';
import { readRunLock } from './lockfile.js';
import { parseOverride } from './param-overrides.js';
import { readParams } from './params.js';
import { checkEnvironment, type EnvCheck } from './env-check.js';
import { execute, runAndRecord, type RunSpec } from './record.js';
import { environmentToRecord } from './seeds.js';
import { snapshot } from './snapshot.js';

/** The spec that recorded a run: its command, inputs, params keys and overrides, outputs and seeds. */
export function specOf(name: string, run: Run): RunSpec {
  return {
    name,
    cmd: run.cmd,
    deps: Object.keys(run.deps),
    params: Object.entries(run.params).map(([file, values]) => ({ file, keys: Object.keys(values) })),
    outs: Object.keys(run.outs),
    metrics: [...Object.keys(run.metrics), ...Object.keys(run.histories ?? {})],
    seed: run.seed,
    seeds: run.seeds ?? {},
    overrides: run.overrides ?? [],
    overridesRecorded: true,
  };
}

/** Why a recorded run no longer matches the work tree: changed deps and params (empty: up to date). */
export function staleness(repo: Repo, run: Run): string[] {
  const reasons: string[] = [];
  const index = StatIndex.load(repo.layout.statIndexFile);
  for (const [dep, was] of Object.entries(run.deps)) {
    let now: Artifact | undefined;
    try {
      now = snapshot(repo, index, dep, false);
    } catch (err) {
      if (!(err instanceof MlxError && err.code === E.PATH_NOT_FOUND)) throw err;
    }
    if (!now) reasons.push(`dependency ${dep} is missing`);
    else if (now.oid !== was.oid) reasons.push(`dependency ${dep} changed`);
  }
  // A recorded value set by -S is compared with the file as the override leaves it: the run applies it again.
  const overrides = (run.overrides ?? []).map(parseOverride);
  for (const [file, values] of Object.entries(run.params)) {
    let now: Record<string, unknown>;
    try {
      now = readParams(absPath(repo, file), file, Object.keys(values), overrides.filter((o) => o.file === file), 'again');
    } catch (err) {
      if (!(err instanceof MlxError)) throw err;
      reasons.push(err.message);
      continue;
    }
    for (const [k, v] of Object.entries(values)) if (!isDeepStrictEqual(now[k], v)) reasons.push(`param ${file}:${k} changed (${JSON.stringify(v)} → ${JSON.stringify(now[k])})`);
  }
  return reasons;
}

export interface ReproResult {
  runs: { name: string; reasons: string[]; reran: boolean; id?: string; key?: string; updatedPointers?: string[] }[];
}

/** `mlx repro [name...]`: re-runs the recorded runs whose deps or params changed, in lockfile order. */
export async function repro(repo: Repo, names: string[], opts: { force?: boolean; quiet?: boolean; onWarning?: (w: string) => void } = {}): Promise<ReproResult> {
  const lock = readRunLock(repo);
  for (const n of names) if (!lock.runs[n]) throw unknownRun(`no run named ${JSON.stringify(n)} in mlx.lock`, { hint: 'mlx runs lists them' });
  const result: ReproResult = { runs: [] };
  for (const name of names.length ? names : Object.keys(lock.runs)) {
    const run = readRunLock(repo).runs[name]!;
    const reasons = staleness(repo, run);
    if (reasons.length === 0 && !opts.force) {
      result.runs.push({ name, reasons, reran: false, id: run.id, key: keyOf(run) });
      continue;
    }
    const { run: fresh, updatedPointers } = await runAndRecord(repo, repo.root, specOf(name, run), { quiet: opts.quiet, onWarning: opts.onWarning });
    result.runs.push({ name, reasons, reran: true, id: fresh.id, key: keyOf(fresh), updatedPointers });
  }
  return result;
}

export interface VerifyOutcome {
  name: string;
  id: string;
  /** This machine against the run's recorded environment; null when the record is not in the cache. */
  environment: EnvCheck | null;
  outputs: { path: string; recorded: string; now: string; identical: boolean }[];
  identical: boolean;
}

/**
 * `mlx repro --verify <name>`: runs the command again from the recorded inputs and seed, compares
 * every output byte for byte (by oid) with the recorded one, then puts the recorded outputs back —
 * nothing is recorded. Nondeterminism shows up as outputs that differ. Before running, this machine
 * is compared with the recorded environment (`onEnvironment` gets it first), so outputs that differ
 * can be told apart from an environment that does.
 */
export async function verifyRun(
  repo: Repo,
  name: string,
  opts: { quiet?: boolean; onEnvironment?: (check: EnvCheck | null) => void; onWarning?: (w: string) => void } = {},
): Promise<VerifyOutcome> {
  const run = readRunLock(repo).runs[name];
  if (!run) throw unknownRun(`no run named ${JSON.stringify(name)} in mlx.lock`, { hint: 'mlx runs lists them' });
  const reasons = staleness(repo, run);
  if (reasons.length > 0) {
    throw runFailed(`cannot verify ${name} from its recorded inputs: ${reasons[0]}`, { hint: `mlx checkout the inputs of the commit that recorded it, or mlx repro ${name}` });
  }
  const environment = await compareEnvironment(repo, run, opts.onWarning);
  opts.onEnvironment?.(environment);
  let fresh: Run;
  try {
    fresh = await execute(repo, repo.root, specOf(name, run), { storeOuts: false, quiet: opts.quiet });
  } finally {
    // The recorded outputs are in the cache: put them back whatever happened.
    await checkout(repo, repo.root, Object.keys(run.outs), { force: true });
  }
  const outputs = Object.entries(run.outs).map(([p, was]) => ({ path: p, recorded: was.oid, now: fresh.outs[p]!.oid, identical: fresh.outs[p]!.oid === was.oid }));
  return { name, id: run.id, environment, outputs, identical: outputs.every((o) => o.identical) };
}

async function compareEnvironment(repo: Repo, run: Run, onWarning?: (w: string) => void): Promise<EnvCheck | null> {
  try {
    const check = await checkEnvironment(repo, run.env, environmentToRecord(process.env, run.seed, run.seeds));
    for (const w of check.warnings) onWarning?.(w);
    return check;
  } catch (err) {
    if (!isMlxError(err, E.OBJECT_MISSING)) throw err;
    // Outputs can still be compared without it; say why the environment is not.
    onWarning?.(`the environment record ${run.env} is not in the cache, so this machine is not compared with it (mlx fetch brings it)`);
    return null;
  }
}
