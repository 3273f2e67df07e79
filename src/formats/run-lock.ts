import { z } from 'zod';
import YAML from 'yaml';
import { isOid } from '../hash/oid.js';
import { badRunLock } from '../util/errors.js';
import { describeZodError } from './zod-error.js';

export const RUN_LOCK_VERSION = 1;
export const RUN_LOCK_FILE = 'mlx.lock';
const HEADER = '# mlx run lockfile — written by mlx run; do not edit by hand\n';

const oid = z.string().refine(isOid, 'expected an object id b3:<64 hex>');
/** A dependency or output as it was: what the path held. */
export const ArtifactSchema = z.strictObject({ kind: z.enum(['file', 'dir']), oid, size: z.number().int().nonnegative() });
export type Artifact = z.infer<typeof ArtifactSchema>;
const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
/** Params and metrics keep YAML/JSON values: scalars, lists and maps. */
const value: z.ZodType<unknown> = z.lazy(() => z.union([scalar, z.array(value), z.record(z.string(), value)]));

/** One recorded run: how an output was produced, enough to reproduce and to explain it. */
export const RunSchema = z.strictObject({
  /** Derived from the inputs (cmd, seed, params, deps, env): the same inputs give the same id. */
  id: z.string().regex(/^r-[0-9a-f]{16}$/),
  cmd: z.array(z.string()).min(1),
  seed: z.number().int().nullable(),
  /** params file → key → value, for the keys named with -p. */
  params: z.record(z.string(), z.record(z.string(), value)),
  deps: z.record(z.string(), ArtifactSchema),
  outs: z.record(z.string(), ArtifactSchema),
  /** metrics file → its content (JSON or YAML). */
  metrics: z.record(z.string(), value),
  /**
   * Outputs that are checkpoints: output → the metadata the run wrote beside it
   * (`<out>.meta.json|yaml`) or inside it (`meta.json|yaml`), e.g. step and epoch.
   */
  checkpoints: z.record(z.string(), z.record(z.string(), value)).optional(),
  /** The environment record object (OS, CPU, GPUs, interpreters, package lockfiles ...). */
  env: oid,
  /** The immutable run record object holding all of this plus timing. */
  record: oid,
  started: z.string(),
  duration_s: z.number().nonnegative(),
  git: z.strictObject({ commit: z.string().nullable(), dirty: z.boolean() }),
});
export type Run = z.infer<typeof RunSchema>;

export const RunLockSchema = z.strictObject({
  version: z.literal(RUN_LOCK_VERSION),
  runs: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'run names use letters, digits, . _ -'), RunSchema),
});
export type RunLock = z.infer<typeof RunLockSchema>;

export function emptyRunLock(): RunLock {
  return { version: RUN_LOCK_VERSION, runs: {} };
}

/** Stable output: runs sorted by name, keys in schema order, so a new run is a readable diff. */
export function serializeRunLock(lock: RunLock): string {
  const runs: Record<string, Run> = {};
  for (const name of Object.keys(lock.runs).sort()) runs[name] = lock.runs[name]!;
  return HEADER + YAML.stringify({ version: lock.version, runs }, { lineWidth: 0, sortMapEntries: false });
}

export function parseRunLock(text: string, source: string): RunLock {
  if (/^<<<<<<< /m.test(text)) {
    // The merge driver marks each run both branches changed (`<<<<<<< ours (run <name>)`): name them.
    const runs = [...text.matchAll(/^<<<<<<< ours \(run (.+)\)$/gm)].map((m) => m[1]!);
    if (runs.length > 0) {
      throw badRunLock(`${source} has unresolved merge conflicts in run${runs.length > 1 ? 's' : ''} ${runs.join(', ')} (changed on both branches)`, {
        hint: `keep one version: mlx resolve ${runs.join(' ')} --ours (or --theirs), then git add ${RUN_LOCK_FILE}`,
      });
    }
    throw badRunLock(`${source} has unresolved merge conflict markers`, { hint: `keep one side (git checkout --ours/--theirs ${source}) or re-run the runs` });
  }
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (err) {
    throw badRunLock(`malformed run lockfile ${source}: not valid YAML (${(err as Error).message.split('\n')[0]})`, { hint: `restore it from git (git checkout -- ${source}) or re-run` });
  }
  const parsed = RunLockSchema.safeParse(raw ?? emptyRunLock());
  if (!parsed.success) throw badRunLock(`malformed run lockfile ${source}: ${describeZodError(parsed.error)}`, { hint: `restore it from git (git checkout -- ${source}) or re-run` });
  return parsed.data;
}

/** The inputs that define a run's identity, in canonical JSON. */
export function runIdentity(run: Pick<Run, 'cmd' | 'seed' | 'params' | 'deps' | 'env'>): string {
  return canonicalJson({ cmd: run.cmd, seed: run.seed, params: run.params, deps: run.deps, env: run.env });
}

/** JSON with object keys sorted at every level: equal values give equal bytes. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
