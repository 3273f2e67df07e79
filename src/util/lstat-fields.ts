import fs from 'node:fs';

/** The fields of an lstat that a directory walk keeps, filled in place (no object per call). */
export interface LstatFields {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  mode: number;
  nlink: number;
  dev: number;
}

/**
 * Node's own stat call under `fs.lstatSync`, which answers a shared array of numbers. `fs.lstatSync`
 * wraps that array in an `fs.Stats` with four `Date`s (eagerly in Node 20): for 100,000 files that
 * wrapping costs more CPU than the system calls. The call is internal, so it is used only when it
 * gives exactly what `fs.lstatSync` gives on a first probe (see `probe`), and `fs.lstatSync` otherwise.
 */
type RawLstat = (path: string, bigint: boolean, req: undefined, throwIfNoEntry: boolean) => Float64Array | undefined;

// Positions in Node's stat array (src/node_file.h: dev, mode, nlink, uid, gid, rdev, blksize, ino,
// size, blocks, then seconds and nanoseconds of atime, mtime, ctime, birthtime).
const DEV = 0;
const MODE = 1;
const NLINK = 2;
const INO = 7;
const SIZE = 8;
const MTIME_S = 12;
const MTIME_NS = 13;
const CTIME_S = 14;
const CTIME_NS = 15;

let raw: RawLstat | null | undefined;

/** Fills `out` with `abs`'s lstat (as `fs.lstatSync` reports it); errors are `fs.lstatSync`'s. */
export function lstatInto(abs: string, out: LstatFields): LstatFields {
  if (raw === undefined) raw = probe<RawLstat>('lstat', abs, () => fs.lstatSync(abs));
  const a = raw?.(abs, false, undefined, false);
  if (!a) return copyFields(fs.lstatSync(abs), out); // no fast path, or an error to report as lstatSync does
  return fillFields(a, out);
}

/** Node's own call under `fs.fstatSync`, probed as the lstat one is; called with the arguments `fs.fstatSync` passes it. */
type RawFstat = (fd: number, bigint: boolean, req: undefined, flag: boolean) => Float64Array | undefined;

let rawFstat: RawFstat | null | undefined;

/** A new record of the open file `fd`'s stat (as `fs.fstatSync` reports it, without its `Date`s). */
export function fstatFields(fd: number): LstatFields {
  if (rawFstat === undefined) rawFstat = probe<RawFstat>('fstat', fd, () => fs.fstatSync(fd));
  const a = rawFstat?.(fd, false, undefined, false);
  if (!(a instanceof Float64Array)) return copyFields(fs.fstatSync(fd), {} as LstatFields);
  return fillFields(a, {} as LstatFields);
}

/** Forgets the fast paths' verdicts (tests run both paths). */
export function useRawLstat(allowed: boolean): void {
  raw = allowed ? undefined : null;
  rawFstat = raw;
}

function fillFields(a: Float64Array, out: LstatFields): LstatFields {
  out.size = a[SIZE]!;
  // As Node computes them from (seconds, nanoseconds), so they equal what fs.Stats would say.
  out.mtimeMs = a[MTIME_S]! * 1e3 + a[MTIME_NS]! / 1e6;
  out.ctimeMs = a[CTIME_S]! * 1e3 + a[CTIME_NS]! / 1e6;
  out.ino = a[INO]!;
  out.mode = a[MODE]!;
  out.nlink = a[NLINK]!;
  out.dev = a[DEV]!;
  return out;
}

function copyFields(st: fs.Stats, out: LstatFields): LstatFields {
  out.size = st.size;
  out.mtimeMs = st.mtimeMs;
  out.ctimeMs = st.ctimeMs;
  out.ino = st.ino;
  out.mode = st.mode;
  out.nlink = st.nlink;
  out.dev = st.dev;
  return out;
}

/**
 * The internal call `name` if it exists here and agrees with the portable call on `target`, field by
 * field; null otherwise (another Node, a permission model that the internal call would bypass).
 */
function probe<Call extends (target: never, bigint: boolean, req: undefined, flag: boolean) => Float64Array | undefined>(
  name: 'lstat' | 'fstat',
  target: Parameters<Call>[0],
  portable: () => fs.Stats,
): Call | null {
  try {
    const p = process as unknown as { permission?: unknown; binding?: (name: string) => Record<string, unknown> };
    if (p.permission !== undefined || typeof p.binding !== 'function') return null;
    const call = p.binding('fs')[name];
    if (typeof call !== 'function') return null;
    const expected = copyFields(portable(), {} as LstatFields);
    const a = (call as Call)(target, false, undefined, false);
    if (!(a instanceof Float64Array) || a.length < 18) return null;
    const got = fillFields(a, {} as LstatFields);
    for (const k of Object.keys(expected) as (keyof LstatFields)[]) if (!Object.is(expected[k], got[k])) return null;
    return call as Call;
  } catch {
    // Any failure of the probe only means the portable call is used.
    return null;
  }
}
