import { spawn } from 'node:child_process';
import { hashBytes } from '../hash/hash-file.js';
import { oidHex } from '../hash/oid.js';
import { canonicalJson, runIdentity, type Artifact, type Run } from '../formats/run-lock.js';
import { openGit, resolveRevision, workTreeStatus } from '../git/git-repo.js';
import { E, MlxError, badUsage, isMlxError, runFailed } from '../util/errors.js';
import { add } from '../repository/add.js';
import { acquireLock } from '../workspace/process-lock.js';
import { absPath, toRepoPath, type Repo } from '../workspace/repo.js';
import { StatIndex } from '../workspace/stat-index.js';
import { captureEnvironment } from './environment.js';
import { readRunLock, writeRunLock } from './lockfile.js';
import { readCheckpointMeta, readMetrics, readParams } from './params.js';
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
}

/**
 * Environment variables that make the seed the single source of truth for common frameworks. Set only
 * when a seed is given; documented in spec/run.md.
 */
export function seedEnvironment(seed: number): Record<string, string> {
  return {
    MLX_SEED: String(seed),
    PYTHONHASHSEED: String(seed),
    PL_GLOBAL_SEED: String(seed), // PyTorch Lightning's seed_everything()
    TF_DETERMINISTIC_OPS: '1',
    CUBLAS_WORKSPACE_CONFIG: ':4096:8', // deterministic cuBLAS (PyTorch use_deterministic_algorithms)
  };
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
  return { deps, outs, metrics: spec.metrics.map(rel), params: spec.params.map((p) => ({ file: rel(p.file), keys: p.keys })) };
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
  {
    const release = await acquireLock(repo.layout.lockFile);
    try {
      for (const p of r.params) params[p.file] = readParams(absPath(repo, p.file), p.file, p.keys);
      for (const d of r.deps) deps[d] = snapshot(repo, index, d, true);
      index.save();
    } finally {
      release();
    }
  }
  // The environment the command really gets, seed variables included.
  const env = await captureEnvironment({ root: repo.root, store: repo.store, env: { ...process.env, ...(spec.seed === null ? {} : seedEnvironment(spec.seed)) } });
  for (const w of env.warnings) opts.onWarning?.(w);
  const git = await gitState(repo);
  const started = new Date();
  const t0 = performance.now();
  const exitCode = await runCommand(spec.cmd, repo.root, spec.seed, opts.quiet);
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
    const added = await add(repo, repo.root, r.outs);
    for (const a of added.paths) outs[a.path] = { kind: a.kind, oid: a.oid, size: a.size };
  } else {
    for (const o of r.outs) outs[o] = snapshot(repo, index, o, false);
  }
  const metrics: Record<string, unknown> = {};
  for (const m of r.metrics) metrics[m] = readMetrics(absPath(repo, m), m);
  const checkpoints: Record<string, Record<string, unknown>> = {};
  for (const o of r.outs) {
    const meta = readCheckpointMeta(absPath(repo, o), o);
    if (meta) checkpoints[o] = meta;
  }
  const identity = { cmd: spec.cmd, seed: spec.seed, params: params as Run['params'], deps, env: env.oid };
  const id = `r-${oidHex(hashBytes(repo.newHasher, Buffer.from(runIdentity(identity)))).slice(0, 16)}`;
  const run = { id, ...identity, outs, metrics: metrics as Run['metrics'], ...(Object.keys(checkpoints).length ? { checkpoints: checkpoints as Run['checkpoints'] } : {}), started: started.toISOString(), duration_s: Math.round(duration * 1000) / 1000, git };
  // The immutable record holds the run under its name; the lockfile entry points at it.
  const record = repo.store.putBytes(Buffer.from(canonicalJson({ name: spec.name, ...run })));
  return { ...run, record };
}

/** `mlx run`: execute, then record the run in mlx.lock (atomically, under the repository lock). */
export async function runAndRecord(repo: Repo, cwd: string, spec: RunSpec, opts: { quiet?: boolean; onWarning?: (w: string) => void } = {}): Promise<{ name: string; run: Run }> {
  readRunLock(repo); // a malformed lockfile stops us before the command runs
  const run = await execute(repo, cwd, spec, { storeOuts: true, quiet: opts.quiet, onWarning: opts.onWarning });
  const release = await acquireLock(repo.layout.lockFile);
  try {
    const lock = readRunLock(repo);
    lock.runs[spec.name] = run;
    writeRunLock(repo, lock);
  } finally {
    release();
  }
  return { name: spec.name, run };
}

function runCommand(cmd: string[], cwd: string, seed: number | null, quiet?: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0]!, cmd.slice(1), {
      cwd,
      stdio: quiet ? ['ignore', 'ignore', 'inherit'] : ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, ...(seed === null ? {} : seedEnvironment(seed)) },
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

/** The commit the run starts from and whether the work tree differs from it (tracked files only). */
async function gitState(repo: Repo): Promise<Run['git']> {
  const git = openGit(repo.root);
  let commit: string | null = null;
  try {
    commit = await resolveRevision(git, 'HEAD');
  } catch (err) {
    if (!isMlxError(err, E.NO_COMMITS)) throw err;
    return { commit: null, dirty: true };
  }
  const matrix = await workTreeStatus(git);
  // Untracked files (not in HEAD, not staged) do not make a commit dirty, as with `git describe --dirty`.
  const dirty = matrix.some(([, head, work, stage]) => !(head === 1 && work === 1 && stage === 1) && !(head === 0 && stage === 0));
  return { commit, dirty };
}

