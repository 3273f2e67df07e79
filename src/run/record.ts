import { spawn } from 'node:child_process';
import { historyFormatOf } from '../formats/metric-history.js';
import { type Artifact, type History, type OutputFormat, type Run } from '../formats/run-lock.js';
import { E, MlxError, badUsage, runFailed } from '../util/errors.js';
import { add } from '../repository/add.js';
import { findTrackedAncestor, readPointer } from '../workspace/pointers.js';
import { acquireLock } from '../workspace/process-lock.js';
import { absPath, toRepoPath, type Repo } from '../workspace/repo.js';
import { StatIndex } from '../workspace/stat-index.js';
import { captureEnvironment } from './environment.js';
import { gitState } from './git-state.js';
import { idOfRecord, inputKey, newNonce, runRecordBytes } from './identity.js';
import { readRunLock, writeRunLock } from './lockfile.js';
import { overrideText, planOverrides, parseOverride, type ParamOverride } from './param-overrides.js';
import { readOutputFormats } from './output-format.js';
import { readCheckpointMeta, readMetrics, readParams } from './params.js';
import { recordHistory } from './metric-history.js';
import { environmentToRecord, seedEnvironment } from './seeds.js';
import { snapshot } from './snapshot.js';

/** What `mlx run` was asked to do. Paths are as the user typed them (relative to `cwd`). */
export interface RunSpec {
  name: string;
  cmd: string[];
  deps: string[];
  params: { file: string; keys: string[] }[];
  outs: string[];
  metrics: string[];
  seed: number | null;
  /** Named seeds (`--seed data=7`); none when absent. */
  seeds?: Record<string, number>;
  /** `-S` overrides as typed (`[file:]key=value`, see param-overrides.ts), applied in order. */
  overrides?: string[];
  /** The overrides are a recorded run's, applied again (see OverrideMode). */
  overridesRecorded?: boolean;
}

export interface Execution {
  run: Run;
  exitCode: number;
}

/** Repo-relative, validated forms of a spec's paths. */
function resolveSpec(repo: Repo, cwd: string, spec: RunSpec) {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(spec.name)) throw badUsage(`invalid run name ${JSON.stringify(spec.name)}: use letters, digits, . _ -`);
  if (spec.cmd.length === 0) throw badUsage('give the command after --, e.g. mlx run -n train -- python train.py');
  const rel = (p: string) => toRepoPath(repo, cwd, p);
  const outs = spec.outs.map(rel);
  const deps = spec.deps.map(rel);
  for (const o of outs) if (deps.includes(o)) throw badUsage(`${o} cannot be both a dependency and an output of one run`);
  const overrides = (spec.overrides ?? []).map((text) => {
    const o = parseOverride(text);
    return { ...o, file: rel(o.file) };
  });
  return { deps, outs, metrics: spec.metrics.map(rel), params: paramsToRead(spec.params.map((p) => ({ file: rel(p.file), keys: p.keys })), overrides), overrides };
}

/**
 * The params keys a run records: those named with -p, and those an override sets (a removed key has
 * no value to record; the override itself is recorded).
 */
function paramsToRead(named: { file: string; keys: string[] }[], overrides: ParamOverride[]): { file: string; keys: string[]; overrides: ParamOverride[] }[] {
  const files = new Map<string, { keys: Set<string>; overrides: ParamOverride[] }>();
  const entry = (file: string) => files.get(file) ?? files.set(file, { keys: new Set(), overrides: [] }).get(file)!;
  for (const p of named) for (const k of p.keys) entry(p.file).keys.add(k);
  for (const o of overrides) {
    const e = entry(o.file);
    e.overrides.push(o);
    if (o.op === 'delete') e.keys.delete(o.key.join('.'));
    else e.keys.add(o.key.join('.'));
  }
  return [...files].map(([file, e]) => ({ file, keys: [...e.keys], overrides: e.overrides }));
}

/**
 * Runs a command and measures it: deps are hashed (and stored) before, the command runs with the seed
 * in its environment from the repository root, outputs are stored after. Returns the run without
 * writing anything to mlx.lock; a failed command throws RUN_FAILED.
 */
export async function execute(repo: Repo, cwd: string, spec: RunSpec, opts: { storeOuts: boolean; quiet?: boolean; onWarning?: (w: string) => void }): Promise<Run> {
  const r = resolveSpec(repo, cwd, spec);
  const index = StatIndex.load(repo.layout.statIndexFile);
  const deps: Record<string, Artifact> = {};
  const params: Record<string, Record<string, unknown>> = {};
  const seedEnv = seedEnvironment(spec.seed, spec.seeds);
  // Whether the code differs from its commit, before -S edits a params file: the overrides are recorded.
  const git = await gitState(repo, opts.onWarning);
  {
    const release = await acquireLock(repo.layout.lockFile);
    try {
      // Everything that can refuse the run does so before an override is written: bad input changes no file.
      const mode = spec.overridesRecorded ? 'again' : 'new';
      const writes = r.params.map((p) => planOverrides(absPath(repo, p.file), p.file, p.overrides, mode));
      for (const p of r.params) params[p.file] = readParams(absPath(repo, p.file), p.file, p.keys, p.overrides, mode);
      const edited = r.params.filter((p) => p.overrides.length).map((p) => p.file);
      const holdsEdited = (d: string) => edited.some((f) => f === d || f.startsWith(`${d}/`));
      const read = new Map<string, Artifact>();
      for (const d of r.deps) if (!holdsEdited(d)) read.set(d, snapshot(repo, index, d, true));
      for (const write of writes) write?.();
      for (const d of r.deps) if (holdsEdited(d)) read.set(d, snapshot(repo, index, d, true));
      for (const d of r.deps) deps[d] = read.get(d)!;
      index.save();
    } finally {
      release();
    }
  }
  // The environment the command really gets, seed variables included.
  const env = await captureEnvironment({ root: repo.root, store: repo.store, env: environmentToRecord(process.env, spec.seed, spec.seeds) });
  for (const w of env.warnings) opts.onWarning?.(w);
  const started = new Date();
  const t0 = performance.now();
  const exitCode = await runCommand(spec.cmd, repo.root, seedEnv, opts.quiet);
  const duration = (performance.now() - t0) / 1000;
  if (exitCode !== 0) {
    throw runFailed(`the command exited with ${exitCode < 0 ? `signal ${-exitCode}` : `code ${exitCode}`}; nothing was recorded (mlx.lock is unchanged)`, { exitCode });
  }
  for (const o of r.outs) {
    try {
      snapshot(repo, index, o, false);
    } catch (err) {
      if (err instanceof MlxError && err.code === E.PATH_NOT_FOUND) throw runFailed(`the command did not write the output ${o}; nothing was recorded`, { path: o });
      throw err;
    }
  }
  const outs: Record<string, Artifact> = {};
  if (opts.storeOuts) {
    // A run may have no outputs (an evaluation that only writes metrics): add refuses an empty list.
    const added = r.outs.length ? await add(repo, repo.root, r.outs) : { paths: [] };
    for (const a of added.paths) outs[a.path] = { kind: a.kind, oid: a.oid, size: a.size };
  } else {
    for (const o of r.outs) outs[o] = snapshot(repo, index, o, false);
  }
  const metrics: Record<string, unknown> = {};
  const histories: Record<string, History> = {};
  for (const m of r.metrics) {
    if (historyFormatOf(m)) histories[m] = recordHistory(repo, m);
    else metrics[m] = readMetrics(absPath(repo, m), m);
  }
  const checkpoints: Record<string, Record<string, unknown>> = {};
  const formats: Record<string, OutputFormat> = {};
  for (const o of r.outs) {
    const meta = readCheckpointMeta(absPath(repo, o), o);
    if (meta) checkpoints[o] = meta;
    Object.assign(formats, readOutputFormats(absPath(repo, o), o, opts.onWarning));
  }
  // Sorted by name, so the same seeds given in another order read (and compare) the same.
  const seeds = spec.seeds && Object.keys(spec.seeds).length ? { seeds: Object.fromEntries(Object.entries(spec.seeds).sort(([a], [b]) => (a < b ? -1 : 1))) } : {};
  const overrides = r.overrides.length ? { overrides: r.overrides.map(overrideText) } : {};
  const inputs = { cmd: spec.cmd, seed: spec.seed, ...seeds, params: params as Run['params'], ...overrides, deps, env: env.oid };
  const run = { key: inputKey(repo.newHasher, inputs), ...inputs, outs, metrics: metrics as Run['metrics'], ...(Object.keys(histories).length ? { histories } : {}), ...(Object.keys(checkpoints).length ? { checkpoints: checkpoints as Run['checkpoints'] } : {}), ...(Object.keys(formats).length ? { formats } : {}), started: started.toISOString(), duration_s: Math.round(duration * 1000) / 1000, git };
  // The immutable record holds the run under its name; its oid names the execution (the id).
  const record = repo.store.putBytes(runRecordBytes(spec.name, run, newNonce()));
  return { id: idOfRecord(record), ...run, record };
}

/** A recorded run, and the tracked inputs whose pointers were brought up to the content it read. */
export interface Recorded {
  name: string;
  run: Run;
  /** Tracked paths (with a pointer) whose pointer now names the changed input the run read. */
  updatedPointers: string[];
}

/**
 * `mlx run`: execute, then record the run in mlx.lock (atomically, under the repository lock). Inputs
 * tracked by a pointer that changed since they were added are stored and their pointers updated first,
 * so every pointer of a dep or out names what mlx.lock records and a clone gets what the run read.
 */
export async function runAndRecord(repo: Repo, cwd: string, spec: RunSpec, opts: { quiet?: boolean; onWarning?: (w: string) => void } = {}): Promise<Recorded> {
  readRunLock(repo); // a malformed lockfile stops us before the command runs
  const run = await execute(repo, cwd, spec, { storeOuts: true, quiet: opts.quiet, onWarning: opts.onWarning });
  const updatedPointers = await updateInputPointers(repo, run, opts.onWarning);
  const release = await acquireLock(repo.layout.lockFile);
  try {
    const lock = readRunLock(repo);
    lock.runs[spec.name] = run;
    writeRunLock(repo, lock);
  } finally {
    release();
  }
  return { name: spec.name, run, updatedPointers };
}

/**
 * Re-adds the deps that are tracked paths (or inside one) whose pointer no longer names what the run
 * read, as `mlx add` would; deps git tracks are left alone. Returns the pointers that changed.
 */
async function updateInputPointers(repo: Repo, run: Run, onWarning?: (w: string) => void): Promise<string[]> {
  const stale: string[] = [];
  for (const [dep, read] of Object.entries(run.deps)) {
    const tracked = findTrackedAncestor(repo, dep);
    if (tracked === undefined) continue;
    // Inside a tracked directory: add updates only that part of it, and writes nothing if unchanged.
    if (tracked !== dep || pointedOid(repo, dep) !== read.oid) stale.push(dep);
  }
  if (stale.length === 0) return [];
  const added = await add(repo, repo.root, stale);
  for (const a of added.paths) {
    const read = run.deps[a.path];
    if (read && read.oid !== a.oid) onWarning?.(`${a.path} changed while the command ran: its pointer names the new content, mlx.lock what the run read`);
  }
  return added.paths.filter((a) => a.changed).map((a) => a.path);
}

/** The oid a pointer names; undefined for a damaged one (add rewrites it). */
function pointedOid(repo: Repo, rel: string): string | undefined {
  try {
    return readPointer(repo, rel)?.pointer.oid;
  } catch (err) {
    if (err instanceof MlxError) return undefined;
    throw err;
  }
}

function runCommand(cmd: string[], cwd: string, seedEnv: Record<string, string>, quiet?: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0]!, cmd.slice(1), {
      cwd,
      stdio: quiet ? ['ignore', 'ignore', 'inherit'] : ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, ...seedEnv },
    });
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(runFailed(`cannot start ${cmd[0]}: ${err.code === 'ENOENT' ? 'no such command' : err.message}; nothing was recorded`)),
    );
    child.on('close', (code, signal) => resolve(code ?? -signalNumber(signal)));
  });
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return ({ SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGSEGV: 11, SIGABRT: 6 } as Record<string, number>)[signal ?? ''] ?? 1;
}
