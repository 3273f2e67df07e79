import type { EnvRecord } from '../formats/env-record.js';
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
const ORDER = ['v', 'os', 'kernel', 'cpu', 'memory_bytes', 'gpus', 'runtimes', 'container', 'random_env'];

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
  const readBlob: BlobReader = (oid) => {
    try {
      return store.readBytes(oid);
    } catch (err) {
      // A record can travel without its lockfile blobs; then only the oid change is reported.
      if (err instanceof MlxError && err.code === E.OBJECT_MISSING) return undefined;
      throw err;
    }
  };
  return { a, b, changes: diffEnvironments(readEnvRecord(store, a), readEnvRecord(store, b), readBlob) };
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

type PackageFormat = 'pip' | 'conda' | 'npm' | 'pipfile' | 'toml';

function kindOfLockfile(p: string): PackageFormat | undefined {
  const name = p.slice(p.lastIndexOf('/') + 1);
  if (name.endsWith('.txt')) return 'pip';
  if (name === 'environment.yml' || name === 'environment.yaml') return 'conda';
  if (name === 'package-lock.json') return 'npm';
  if (name === 'Pipfile.lock') return 'pipfile';
  if (name === 'uv.lock' || name === 'poetry.lock' || name === 'Cargo.lock') return 'toml';
  return undefined; // yarn.lock, pnpm-lock.yaml, conda-lock.yml: the oid change is reported alone
}

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

/** name → version (several versions of one name joined with `, `); undefined when the text does not parse. */
export function parsePackages(format: PackageFormat, text: string): Map<string, string> | undefined {
  const found = new Map<string, Set<string>>();
  const add = (name: string, version: string) => {
    let set = found.get(name);
    if (!set) found.set(name, (set = new Set()));
    set.add(version);
  };
  try {
    if (format === 'pip') parsePipLines(text.split('\n'), add);
    else if (format === 'conda') parseCondaYaml(text, add);
    else if (format === 'npm') parsePackageLock(text, add);
    else if (format === 'pipfile') parsePipfileLock(text, add);
    else parseTomlPackages(text, add);
  } catch {
    return undefined; // not the format its name promises: report the oid change only
  }
  return new Map([...found].map(([name, versions]) => [name, [...versions].sort(compareUtf8).join(', ')]));
}

type Add = (name: string, version: string) => void;

/** PEP 503 name normalisation, so `Foo_Bar` and `foo-bar` are one package. */
function pipName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** `name==version`, `name @ url`, `name>=1,<2` lines; options, editables, URLs and comments are skipped. */
function parsePipLines(lines: string[], add: Add): void {
  for (const raw of lines) {
    const line = raw
      .replace(/(^|\s)#.*$/, '')
      .replace(/\s*\\$/, '')
      .split(/\s+--/)[0]!
      .split(';')[0]!
      .trim();
    if (!line || line.startsWith('-')) continue;
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*([=<>!~@].*)?$/.exec(line);
    if (!m) continue;
    let spec = (m[2] ?? '').trim();
    if (spec.startsWith('===')) spec = spec.slice(3);
    else if (spec.startsWith('==')) spec = spec.slice(2);
    else if (spec.startsWith('@')) spec = spec.slice(1);
    add(pipName(m[1]!), spec.trim());
  }
}

/** The `dependencies:` list of a conda environment file (`name=version=build`), with its `pip:` sub-list. */
function parseCondaYaml(text: string, add: Add): void {
  let inDeps = false;
  /** Column of the `- pip:` item while reading its sub-list, else -1. */
  let pipIndent = -1;
  const pipLines: string[] = [];
  for (const line of text.split('\n')) {
    if (/^\S/.test(line)) {
      inDeps = /^dependencies\s*:/.test(line);
      pipIndent = -1;
      continue;
    }
    const m = inDeps ? /^(\s*)-\s+(.+?)\s*$/.exec(line) : null;
    if (!m) continue;
    const indent = m[1]!.length;
    const item = m[2]!;
    if (pipIndent >= 0 && indent > pipIndent) {
      pipLines.push(item);
      continue;
    }
    pipIndent = /^pip\s*:$/.test(item) ? indent : -1;
    const c = /^((?:[^\s=<>!~:]+::)?[^\s=<>!~:]+)\s*([=<>!~].*)?$/.exec(item);
    if (!c) continue;
    let spec = (c[2] ?? '').trim();
    if (spec.startsWith('==')) spec = spec.slice(2);
    else if (spec.startsWith('=')) spec = spec.slice(1);
    add(c[1]!.toLowerCase(), spec);
  }
  parsePipLines(pipLines, (name, version) => add(`pip:${name}`, version));
}

function parsePackageLock(text: string, add: Add): void {
  const lock = JSON.parse(text) as { packages?: Record<string, { version?: string }>; dependencies?: Record<string, { version?: string }> };
  if (lock.packages) {
    for (const [key, info] of Object.entries(lock.packages)) {
      if (key !== '' && typeof info?.version === 'string') add(key.replace(/^node_modules\//, ''), info.version);
    }
    return;
  }
  for (const [name, info] of Object.entries(lock.dependencies ?? {})) if (typeof info?.version === 'string') add(name, info.version);
}

function parsePipfileLock(text: string, add: Add): void {
  const lock = JSON.parse(text) as Record<string, Record<string, { version?: string }>>;
  for (const section of ['default', 'develop']) {
    for (const [name, info] of Object.entries(lock[section] ?? {})) {
      if (typeof info?.version === 'string') add(pipName(name), info.version.replace(/^===?/, ''));
    }
  }
}

/** `[[package]]` tables with `name = "..."` and `version = "..."` before any sub-table. */
function parseTomlPackages(text: string, add: Add): void {
  for (const chunk of text.split(/^\[\[package\]\]\s*$/m).slice(1)) {
    const head = chunk.split(/^\[/m)[0]!;
    const name = /^name\s*=\s*"([^"]+)"/m.exec(head)?.[1];
    const version = /^version\s*=\s*"([^"]+)"/m.exec(head)?.[1];
    if (name) add(name, version ?? '');
  }
}
