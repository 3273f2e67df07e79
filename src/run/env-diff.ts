import type { EnvRecord } from '../formats/env-record.js';
import { kindOfLockfile, parsePackages, type PackageFormat } from '../formats/package-lockfiles.js';
import type { Oid } from '../hash/oid.js';
import type { ObjectStore } from '../store/object-store.js';
import { E, MlxError } from '../util/errors.js';
import { compareUtf8 } from '../util/paths.js';
import { readEnvRecord, resolveEnvRecord } from './environment.js';

/**
 * One difference between two environment records. `path` is flat and unique: `runtimes.python`,
 * `gpus[0].driver`, `lockfiles/requirements.txt` (the blob oid), `pip_freeze`, and for a package inside
 * a changed lockfile or pip freeze `lockfiles/requirements.txt:numpy` with `package` set. An absent side
 * is `null` (records never hold null, so it cannot be confused with a value).
 */
export interface EnvChange {
  path: string;
  from: unknown;
  to: unknown;
  /** Set for package-level changes: the package's name as the lockfile spells it (pip names normalised). */
  package?: string;
}

/** Returns a stored blob's bytes, or undefined when it is not available (then no package diff is made). */
export type BlobReader = (oid: Oid) => Uint8Array | undefined;

/** Top-level fields in the order people read them; unknown fields (a later version) come last. */
const ORDER = ['v', 'os', 'kernel', 'cpu', 'memory_bytes', 'gpus', 'runtimes', 'compilers', 'gpu_libs', 'container', 'python_env', 'device_env', 'distributed', 'random_env'];

/**
 * The changed fields between two records, in a stable order. With `readBlob`, lockfiles (and pip
 * freeze, conda) whose oid changed are also compared package by package where their format is known:
 * requirements/pip freeze (`name==version`), conda environment files, package-lock.json, Pipfile.lock,
 * and the `[[package]]` tables of uv.lock, poetry.lock and Cargo.lock.
 */
export function diffEnvironments(a: EnvRecord, b: EnvRecord, readBlob?: BlobReader): EnvChange[] {
  const changes: EnvChange[] = [];
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const blobFields = new Set(['lockfiles', 'pip_freeze', 'conda']);
  const rest = [...new Set([...Object.keys(ra), ...Object.keys(rb)])].filter((k) => !ORDER.includes(k) && !blobFields.has(k)).sort(compareUtf8);
  for (const key of [...ORDER, ...rest]) walk(ra[key], rb[key], key, changes);

  const la = new Map(a.lockfiles.map((l) => [l.path, l]));
  const lb = new Map(b.lockfiles.map((l) => [l.path, l]));
  for (const p of [...new Set([...la.keys(), ...lb.keys()])].sort(compareUtf8)) {
    blobChange(`lockfiles/${p}`, kindOfLockfile(p), la.get(p)?.oid, lb.get(p)?.oid, readBlob, changes);
  }
  blobChange('pip_freeze', 'pip', a.pip_freeze, b.pip_freeze, readBlob, changes);
  blobChange('conda', 'conda', a.conda, b.conda, readBlob, changes);
  return changes;
}

export interface StoredEnvDiff {
  a: Oid;
  b: Oid;
  changes: EnvChange[];
}

/**
 * Resolves two environment record references (oids or `b3:` prefixes) in the store, reads both and
 * diffs them, comparing lockfile blobs package by package when the store has them.
 */
export function diffStoredEnvironments(store: ObjectStore, refA: string, refB: string): StoredEnvDiff {
  const a = resolveEnvRecord(store, refA);
  const b = resolveEnvRecord(store, refB);
  return { a, b, changes: diffEnvironments(readEnvRecord(store, a), readEnvRecord(store, b), storeBlobReader(store)) };
}

/** Reads blobs from the store; one the cache lacks is undefined. */
export function storeBlobReader(store: ObjectStore): BlobReader {
  return (oid) => {
    try {
      return store.readBytes(oid);
    } catch (err) {
      // A record can travel without its lockfile blobs; then only the oid change is reported.
      if (err instanceof MlxError && err.code === E.OBJECT_MISSING) return undefined;
      throw err;
    }
  };
}

function walk(x: unknown, y: unknown, path: string, out: EnvChange[]): void {
  if (sameValue(x, y)) return;
  if (isPlainObject(x) && isPlainObject(y)) {
    for (const k of [...new Set([...Object.keys(x), ...Object.keys(y)])].sort(compareUtf8)) walk(x[k], y[k], `${path}.${k}`, out);
    return;
  }
  // Lists of objects (gpus) are compared element by element; lists of strings (cpu.flags) as one value.
  if (Array.isArray(x) && Array.isArray(y) && [...x, ...y].some(isPlainObject)) {
    for (let i = 0; i < Math.max(x.length, y.length); i++) walk(x[i], y[i], `${path}[${i}]`, out);
    return;
  }
  out.push({ path, from: x ?? null, to: y ?? null });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function sameValue(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  if (Array.isArray(x) && Array.isArray(y)) return x.length === y.length && x.every((v, i) => sameValue(v, y[i]));
  if (isPlainObject(x) && isPlainObject(y)) {
    const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
    return [...keys].every((k) => sameValue(x[k], y[k]));
  }
  return false;
}

// ---- package-level comparison ----

function blobChange(path: string, format: PackageFormat | undefined, from: Oid | undefined, to: Oid | undefined, readBlob: BlobReader | undefined, out: EnvChange[]): void {
  if (from === to) return;
  out.push({ path, from: from ?? null, to: to ?? null });
  if (!from || !to || !format || !readBlob) return;
  const before = readText(readBlob, from);
  const after = readText(readBlob, to);
  if (before === undefined || after === undefined) return;
  const pa = parsePackages(format, before);
  const pb = parsePackages(format, after);
  if (!pa || !pb) return;
  for (const name of [...new Set([...pa.keys(), ...pb.keys()])].sort(compareUtf8)) {
    const va = pa.get(name);
    const vb = pb.get(name);
    if (va !== vb) out.push({ path: `${path}:${name}`, package: name, from: va ?? null, to: vb ?? null });
  }
}

function readText(readBlob: BlobReader, oid: Oid): string | undefined {
  const bytes = readBlob(oid);
  if (!bytes || bytes.includes(0)) return undefined;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}
