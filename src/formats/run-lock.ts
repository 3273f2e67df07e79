import * as z from 'zod/mini';
import { isOid } from '../hash/oid.js';
import { badRunLock } from '../util/errors.js';
import { HISTORY_FORMATS } from './metric-history.js';
import { describeZodError, parseJsonWith } from './zod-error.js';
import { yamlLibrary } from './yaml-library.js';

export const RUN_LOCK_VERSION = 1;
export const RUN_LOCK_FILE = 'mlx.lock';
const HEADER = '# mlx run lockfile — written by mlx run; do not edit by hand\n';

/** `r-<16 hex>`: one execution of a run. */
export const RUN_ID = /^r-[0-9a-f]{16}$/;
/** `k-<16 hex>`: the inputs of a run. */
export const RUN_KEY = /^k-[0-9a-f]{16}$/;
const oid = z.string().check(z.refine(isOid, 'expected an object id b3:<64 hex>'));
/** A dependency or output as it was: what the path held. */
export const ArtifactSchema = z.strictObject({ kind: z.enum(['file', 'dir']), oid, size: z.int().check(z.nonnegative()) });
export type Artifact = z.infer<typeof ArtifactSchema>;
const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
/** Params and metrics keep YAML/JSON values: scalars, lists and maps. */
const value: z.ZodMiniType<unknown> = z.lazy(() => z.union([scalar, z.array(value), z.record(z.string(), value)]));
/** A seed's name (`--seed data=7`): exported as `MLX_SEED_<NAME>`, so lowercase letters, digits and `_`. */
export const SEED_NAME = /^[a-z][a-z0-9_]*$/;
const seedValue = z.int().check(z.nonnegative());

/**
 * What the output file itself says about its contents, read from its header: the format, the size, and
 * for formats whose header lists them, tensors (name → `DTYPE [d0, d1, ...]`), the parameter count,
 * the dtypes (dtype → parameter count) and the file's own metadata (safetensors `__metadata__`).
 */
export const OutputFormatSchema = z.strictObject({
  format: z.string(),
  size: z.int().check(z.nonnegative()),
  version: z.optional(z.int()),
  parameters: z.optional(z.int().check(z.nonnegative())),
  tensor_count: z.optional(z.int().check(z.nonnegative())),
  dtypes: z.optional(z.record(z.string(), z.int().check(z.nonnegative()))),
  tensors: z.optional(z.record(z.string(), z.string())),
  metadata: z.optional(z.record(z.string(), value)),
});
export type OutputFormat = z.infer<typeof OutputFormatSchema>;

/**
 * A per-step metric log a run wrote (`-M train.csv`): its bytes are stored as an object (`oid`, `size`),
 * so it is versioned, pushed and kept by gc like any output; the rest summarises it: the `format` (told
 * by the extension), the `step` column (null: the row number), the rows read (`steps`) and the metrics,
 * in the order they first appear.
 */
export const HistorySchema = z.strictObject({
  format: z.enum(HISTORY_FORMATS),
  oid,
  size: z.int().check(z.nonnegative()),
  step: z.nullable(z.string()),
  steps: z.int().check(z.nonnegative()),
  metrics: z.array(z.string()),
});
export type History = z.infer<typeof HistorySchema>;

/**
 * One recorded run: how an output was produced, enough to reproduce and to explain it. Fields are
 * written in this order (the order mlx has always written them in).
 */
export const RunSchema = z.strictObject({
  /**
   * This execution: `r-` + the first 16 hex digits of the run record's oid. The record holds the start
   * time and a random nonce, so every execution has its own id, and it never changes (it names the record).
   * Lockfiles written before keys existed hold the input key here instead (see `legacyKey`).
   */
  id: z.string().check(z.regex(RUN_ID)),
  /**
   * The inputs (cmd, seed, params, deps, env) hashed: runs with the same inputs share it, as in DVC's run
   * cache. Absent in old lockfiles; `parseRunLock` fills it in from their id.
   */
  key: z.optional(z.string().check(z.regex(RUN_KEY))),
  cmd: z.array(z.string()).check(z.minLength(1)),
  seed: z.nullable(z.int()),
  /** Named seeds (`--seed data=7`): name → seed, each given to the command as `MLX_SEED_<NAME>`. Absent when none. */
  seeds: z.optional(z.record(z.string().check(z.regex(SEED_NAME, 'seed names use lowercase letters, digits and _, starting with a letter')), seedValue)),
  /** params file → key → value, for the keys named with -p and those -S set. */
  params: z.record(z.string(), z.record(z.string(), value)),
  /**
   * The `-S` overrides applied to params files before the command ran, in order, each as
   * `file:[+|++|~]key.path[=value]` (the value as typed, read as YAML). `mlx repro` applies them again.
   */
  overrides: z.optional(z.array(z.string()).check(z.minLength(1))),
  deps: z.record(z.string(), ArtifactSchema),
  /** The environment record object (OS, CPU, GPUs, interpreters, package lockfiles ...). */
  env: oid,
  outs: z.record(z.string(), ArtifactSchema),
  /** metrics file → its content (JSON or YAML). */
  metrics: z.record(z.string(), value),
  /** Per-step metric logs (JSON lines, CSV, TSV): file → the stored log and what it holds. Absent when none. */
  histories: z.optional(z.record(z.string(), HistorySchema)),
  /**
   * Outputs that are checkpoints: output → the metadata the run wrote beside it
   * (`<out>.meta.json|yaml`) or inside it (`meta.json|yaml`), e.g. step and epoch.
   */
  checkpoints: z.optional(z.record(z.string(), z.record(z.string(), value))),
  /** Outputs in a known checkpoint or array format: output → what its header says (see OutputFormatSchema). */
  formats: z.optional(z.record(z.string(), OutputFormatSchema)),
  started: z.string(),
  duration_s: z.number().check(z.nonnegative()),
  git: z.strictObject({ commit: z.nullable(z.string()), dirty: z.boolean() }),
  /** The immutable run record object: all of this (but the id and itself), the run's name and a nonce. */
  record: oid,
});
export type Run = z.infer<typeof RunSchema>;

export const RunLockSchema = z.strictObject({
  version: z.literal(RUN_LOCK_VERSION),
  runs: z.record(z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'run names use letters, digits, . _ -')), RunSchema),
});
export type RunLock = z.infer<typeof RunLockSchema>;

export function emptyRunLock(): RunLock {
  return { version: RUN_LOCK_VERSION, runs: {} };
}

/**
 * Stable output: runs sorted by name, keys in schema order, so a new run is a readable diff. A key that
 * `parseRunLock` derived for an old run is not written, so an old lockfile round-trips byte for byte.
 */
export function serializeRunLock(lock: RunLock): string {
  const runs: Record<string, Run> = {};
  for (const name of Object.keys(lock.runs).sort()) runs[name] = inSchemaOrder(lock.runs[name]!);
  // No YAML anchors: runs that share an object in memory (a merge, a re-run) still each read in full.
  return HEADER + yamlLibrary().stringify({ version: lock.version, runs }, { lineWidth: 0, sortMapEntries: false, aliasDuplicateObjects: false });
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
    raw = yamlLibrary().parse(text);
  } catch (err) {
    throw badRunLock(`malformed run lockfile ${source}: not valid YAML (${(err as Error).message.split('\n')[0]})`, { hint: `restore it from git (git checkout -- ${source}) or re-run` });
  }
  const parsed = RunLockSchema.safeParse(raw ?? emptyRunLock());
  if (!parsed.success) throw badRunLock(`malformed run lockfile ${source}: ${describeZodError(parsed.error)}`, { hint: `restore it from git (git checkout -- ${source}) or re-run` });
  for (const run of Object.values(parsed.data.runs)) run.key ??= legacyKey(run.id);
  return parsed.data;
}

/**
 * The input key of a run recorded before keys existed: its id was the input hash, computed as
 * `runKey` computes a key today, so the same hex under `k-` matches the key of a new run with the
 * same inputs.
 */
export function legacyKey(id: string): string {
  return `k-${id.slice(2)}`;
}

/** A run's input key (for a run object not read through `parseRunLock`, derived from an old id). */
export function keyOf(run: Pick<Run, 'id' | 'key'>): string {
  return run.key ?? legacyKey(run.id);
}

/** The run with its fields in schema order, without a key derived from an old id. */
function inSchemaOrder(run: Run): Run {
  const ordered: Record<string, unknown> = {};
  for (const k of Object.keys(RunSchema.shape) as (keyof Run)[]) {
    if (run[k] === undefined || (k === 'key' && run.key === legacyKey(run.id))) continue;
    ordered[k] = run[k];
  }
  return ordered as Run;
}

/**
 * The inputs that define a run's input key, in canonical JSON. Named seeds and overrides count only
 * when present, so a run without them keeps the key it had before they existed.
 */
export function runInputs(run: Pick<Run, 'cmd' | 'seed' | 'params' | 'deps' | 'env' | 'seeds' | 'overrides'>): string {
  return canonicalJson({
    cmd: run.cmd,
    seed: run.seed,
    params: run.params,
    deps: run.deps,
    env: run.env,
    ...(run.seeds && Object.keys(run.seeds).length ? { seeds: run.seeds } : {}),
    ...(run.overrides?.length ? { overrides: run.overrides } : {}),
  });
}

/** A run record object: the run (without `id` and `record`, derived from the object's oid), its name and nonce. */
const RunRecordSchema = z.extend(z.omit(RunSchema, { id: true, record: true }), { name: z.string(), nonce: z.string() });

/**
 * Reads a run record object's bytes (see `runRecordBytes`): its name and the run as recorded, without
 * the `id` and `record` a reader derives from the oid. `source` names it in the error.
 */
export function parseRunRecord(bytes: Uint8Array, source: string): { name: string; run: Omit<Run, 'id' | 'record'> } {
  const { name, nonce: _nonce, ...run } = parseJsonWith(RunRecordSchema, bytes, (why) => badRunLock(`run record ${source} cannot be read: ${why}`));
  return { name, run };
}

/** JSON with object keys sorted at every level: equal values give equal bytes. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
