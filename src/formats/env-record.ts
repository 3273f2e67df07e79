import * as z from 'zod/mini';
import { isOid, type Oid } from '../hash/oid.js';
import { E, MlxError, badEnvRecord, isMlxError } from '../util/errors.js';
import { assertSafeRelPath, compareUtf8 } from '../util/paths.js';
import { describeZodError } from './zod-error.js';

/** The version capture writes; readers take it and version 1. */
export const ENV_RECORD_VERSION = 2;
/** memory_bytes is a multiple of this (128 MiB). */
export const MEMORY_GRANULE = 2 ** 30;

const oid = z.string().check(z.refine(isOid, 'expected an object id b3:<64 hex>'));
const byteCount = z.int().check(z.nonnegative());
const relPath = z.string().check(
  z.refine((p: string) => {
    try {
      assertSafeRelPath(p);
      return true;
    } catch (err) {
      if (isMlxError(err, E.BAD_PATH)) return false;
      throw err;
    }
  }, 'expected a relative /-separated path'),
);

/** One GPU as its driver reports it. No uuid or bus id: two identical machines must give equal records. */
export const GpuSchema = z.strictObject({
  vendor: z.string().check(z.minLength(1)),
  name: z.string(),
  driver: z.string(),
  memory_bytes: z.optional(byteCount),
  /** Highest CUDA version the driver supports (the `CUDA Version` nvidia-smi prints). */
  cuda: z.optional(z.string()),
  rocm: z.optional(z.string()),
});
export type Gpu = z.infer<typeof GpuSchema>;

/** A package lockfile of the project, stored as a blob. */
export const LockfileSchema = z.strictObject({ path: relPath, oid, size: byteCount });
export type Lockfile = z.infer<typeof LockfileSchema>;

const varName = z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/));
const toolName = z.string().check(z.regex(/^[a-z][a-z0-9_+-]*$/));

/** The fields of both versions. */
const commonShape = {
  os: z.strictObject({
    /** Node's `process.platform`: linux, darwin, win32 ... */
    platform: z.string().check(z.minLength(1)),
    /** Kernel release (`os.release()`), e.g. 6.1.0-18-amd64. */
    release: z.string(),
    /** Kernel build (`os.version()`), e.g. #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01). */
    version: z.string(),
    arch: z.string().check(z.minLength(1)),
    /** PRETTY_NAME from /etc/os-release, when there is one. */
    distro: z.optional(z.string()),
  }),
  /** `os.type()` and release in one readable string: `Linux 6.1.0-18-amd64`. */
  kernel: z.string(),
  cpu: z.strictObject({
    model: z.string(),
    /** Logical CPUs of the machine (not the affinity mask, which varies per job). */
    count: z.int().check(z.positive()),
    /** The SIMD/matrix extensions numeric libraries dispatch on (avx2, avx512f, amx_bf16, sve ...), sorted. */
    flags: z.optional(z.array(z.string())),
  }),
  /** Total memory rounded to whole GiB: the kernel's reservations (and memory ballooning in VMs) make the exact figure wander. */
  memory_bytes: byteCount,
  gpus: z.array(GpuSchema),
  /** Interpreter versions: `node` always, `python` (from python3) when present, more by name. */
  runtimes: z.catchall(z.object({ node: z.string(), python: z.optional(z.string()) }), z.string()),
  /** Package lockfiles found in the project root and one level down, sorted by path. */
  lockfiles: z.array(LockfileSchema),
  /** Blob of `python3 -m pip freeze` (the project root's absolute path replaced by `.`). */
  pip_freeze: z.optional(oid),
  /** Blob of `conda env export` of the active environment (its `prefix:` line removed). */
  conda: z.optional(oid),
  /** The environment variables that steer randomness and numerics, as they were set. */
  random_env: z.record(varName, z.string()),
};

const containerV1 = z.strictObject({
  /** docker, podman, kubernetes, lxc, ... or `unknown` when only an image digest was given. */
  runtime: z.string().check(z.minLength(1)),
  /** Registry (manifest) digest: from MLX_IMAGE_DIGEST, or the image reference a container was started by (`repo@sha256:...`). */
  image_digest: z.optional(z.string()),
  /** Local image id (config digest), from podman's /run/.containerenv. Never the container id. */
  image_id: z.optional(z.string()),
});

/** Version 1: what records written before compilers, GPU libraries and process settings were captured hold. */
const EnvRecordV1Schema = z.strictObject({ v: z.literal(1), ...commonShape, container: z.optional(containerV1) }).check(z.superRefine(uniqueLockfiles));

/**
 * The machine and software a run executed on. Everything here describes the environment, nothing
 * identifies the host or the moment (no hostname, user, timestamps, pids, container ids, absolute
 * paths), so the same machine with the same packages serialises to the same bytes and so the same oid.
 * Version 2 adds the optional fields below; each is left out when nothing was found.
 */
export const EnvRecordSchema = z.strictObject({
  v: z.literal(ENV_RECORD_VERSION),
  ...commonShape,
  container: z.optional(
    z.strictObject({
      ...containerV1.shape,
      /** The image as the container was started from it (podman's `image=`), e.g. `docker.io/library/python:3.11`. */
      image: z.optional(z.string()),
    }),
  ),
  /** Compiler versions by tool: `gcc`, `clang`, `nvcc` (the CUDA toolkit's release, e.g. 12.4.131). */
  compilers: z.optional(z.record(toolName, z.string())),
  /** GPU libraries by name: `cudnn`, `nccl`; from the pip wheels frameworks load, else the system headers. */
  gpu_libs: z.optional(z.record(toolName, z.string())),
  /** Which devices the run could see: CUDA_VISIBLE_DEVICES, CUDA_DEVICE_ORDER, HIP/ROCR_VISIBLE_DEVICES ... */
  device_env: z.optional(z.record(varName, z.string())),
  /** The active Python environment: a virtualenv (its folder, relative to the project when inside it, else its name) and/or a conda environment (its name). */
  python_env: z.optional(z.strictObject({ venv: z.optional(z.string()), conda: z.optional(z.string()) })),
  /**
   * Distributed-training settings: WORLD_SIZE, RANK, LOCAL_RANK, LOCAL_WORLD_SIZE, NODE_RANK by value;
   * MASTER_ADDR and MASTER_PORT only as present (`set`): an address names a host, a port changes per job.
   */
  distributed: z.optional(z.record(varName, z.string())),
}).check(z.superRefine(uniqueLockfiles));

function uniqueLockfiles(r: { lockfiles: Lockfile[] }, ctx: z.core.$RefinementCtx<{ lockfiles: Lockfile[] }>): void {
  const seen = new Set<string>();
  for (const [i, l] of r.lockfiles.entries()) {
    if (seen.has(l.path)) ctx.addIssue({ code: 'custom', path: ['lockfiles', i, 'path'], message: `${l.path} appears twice` });
    seen.add(l.path);
  }
}

/** A record as read: version 2, or version 1 (which lacks the newer optional fields). */
export type EnvRecord = Omit<z.infer<typeof EnvRecordSchema>, 'v'> & { v: 1 | 2 };


/**
 * Canonical bytes of an environment record: checked against the schema, object keys sorted at every
 * level, absent optional fields left out, lockfiles sorted by UTF-8 path, no whitespace. The record's
 * oid is the hash of exactly these bytes.
 */
export function serializeEnvRecord(record: EnvRecord): string {
  const parsed = schemaOf(record.v).safeParse(record);
  if (!parsed.success) throw badRecord('environment record', describeZodError(parsed.error));
  const r = parsed.data;
  return canonical({ ...r, lockfiles: [...r.lockfiles].sort((a, b) => compareUtf8(a.path, b.path)) });
}

/** The blobs a record refers to (lockfiles, pip freeze, conda): what gc must keep and push must send with it. */
export function referencedOids(record: EnvRecord): Oid[] {
  const oids = record.lockfiles.map((l) => l.oid);
  if (record.pip_freeze) oids.push(record.pip_freeze);
  if (record.conda) oids.push(record.conda);
  return [...new Set(oids)];
}

/** Parses and checks a stored environment record; `source` names it in errors. */
export function parseEnvRecord(text: string, source: string): EnvRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // JSON.parse fails only on bad JSON
    throw badRecord(source, 'not valid JSON');
  }
  const v = (raw as { v?: unknown } | null)?.v;
  if (typeof v === 'number' && v > ENV_RECORD_VERSION) {
    throw badEnvRecord(`${source} is an environment record of version ${v}, newer than this mlx reads (${ENV_RECORD_VERSION})`, {
      hint: 'upgrade mlx',
      source,
      version: v,
    });
  }
  const parsed = schemaOf(v).safeParse(raw);
  if (!parsed.success) throw badRecord(source, describeZodError(parsed.error));
  return parsed.data as EnvRecord;
}

function schemaOf(v: unknown): typeof EnvRecordSchema | typeof EnvRecordV1Schema {
  return v === 1 ? EnvRecordV1Schema : EnvRecordSchema;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const obj = v as Record<string, unknown>;
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort(compareUtf8);
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

function badRecord(source: string, why: string): MlxError {
  return badEnvRecord(`malformed environment record ${source}: ${why}`, { source });
}
