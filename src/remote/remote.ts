import fsp from 'node:fs/promises';
import { isErrno, badPath, pathNotFound } from '../util/errors.js';

/** One stored object: its key (relative to the remote's root) and its size in bytes. */
export interface RemoteObjectInfo {
  key: string;
  size: number;
}

/** A byte range of an object: `start` inclusive, `end` exclusive. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * What `put` uploads: bytes in memory, the same in pieces sent back to back (a pack that sends a large
 * file's chunks from where they were read rather than copying them together), or a file read as it is sent.
 */
export type PutBody = Buffer | readonly Buffer[] | { file: string };

/**
 * A storage backend for one remote: a flat namespace of immutable objects under relative,
 * `/`-separated keys. It knows keys and bytes only, never oids, packs or indexes (the transfer layer
 * above it decides what the keys mean).
 *
 * Invariants every implementation keeps:
 * - `put` is atomic: a reader sees the whole object or no object, never a partial one;
 * - after `put` the stored size is checked, and a mismatch is an `E.REMOTE_CORRUPT` error;
 * - a missing key is `E.REMOTE_NOT_FOUND` from `get`/`getToFile` and `undefined` from `head`;
 * - every failure is an `MlxError` whose message is one line naming the remote and the key.
 */
export interface Remote {
  /** The remote as the user wrote it, for messages. */
  readonly url: string;
  /** Every object whose key starts with `prefix` (`''` lists all), in no particular order. */
  list(prefix: string): Promise<RemoteObjectInfo[]>;
  /** The object's size, or `undefined` when there is no such object. */
  head(key: string): Promise<RemoteObjectInfo | undefined>;
  /**
   * The object's bytes, or the bytes of `range` (`end` exclusive). Like HTTP, a range reaching past
   * the end of the object is clipped to it; a caller that needs an exact length checks it.
   * With `into`, bytes that fit are read into it and the result is a view of it (valid until the
   * caller reuses `into`): downloads in a loop then touch no fresh memory, whose first-touch page
   * faults can cost more than the transfer.
   */
  get(key: string, range?: ByteRange, into?: Buffer): Promise<Buffer>;
  /** Streams the object into `dest`, which must not exist yet; returns the number of bytes written. */
  getToFile(key: string, dest: string): Promise<number>;
  /** Stores an object atomically and checks its stored size. Writing an existing key replaces it. */
  put(key: string, body: PutBody): Promise<void>;
  /**
   * True when `put` sends a body in pieces as it is (a vectored write); otherwise it joins the pieces
   * first, and a caller that has its bytes in one buffer anyway had better hand over that.
   */
  readonly putsPiecesAsTheyAre?: boolean;
  /**
   * The file that holds the object `key`, where the remote keeps its objects as files on this machine
   * (a directory): a reader may then copy ranges of it itself. Nothing is checked (it may not exist).
   */
  localFile?(key: string): string;
  /** Removes an object; removing a missing object is not an error. */
  delete(key: string): Promise<void>;
  /** Checks the remote is reachable and usable (bucket exists, credentials work); clear MlxError otherwise. */
  check(): Promise<void>;
  /**
   * Removes what killed writers left behind and no reader can see (a directory's temp files), when
   * older than `maxAgeMs`; returns how many. Backends whose uploads are atomic by themselves have none.
   */
  removeStaleTemporaries?(maxAgeMs: number): Promise<number>;
}

/**
 * Throws `E.BAD_PATH` unless `key` is a relative, `/`-separated key without empty, `.` or `..`
 * segments, backslashes or control characters (so it maps to the same place on every backend).
 */
export function assertKey(key: string): void {
  if (!isValidKey(key)) throw badPath(`invalid remote key ${JSON.stringify(key)}`);
}

/** Like {@link assertKey} for a list prefix: `''` is allowed, and a trailing `/` is. */
export function assertPrefix(prefix: string): void {
  if (prefix === '') return;
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (!isValidKey(trimmed)) throw badPath(`invalid remote prefix ${JSON.stringify(prefix)}`);
}

function isValidKey(key: string): boolean {
  if (key === '' || /[\\\u0000-\u001f\u007f]/.test(key)) return false;
  return key.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

/** Throws `E.BAD_PATH` for a range that is not `0 <= start <= end` in whole numbers. */
export function assertRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw badPath(`invalid byte range ${start}-${end}`);
  }
}

/** The size of what `put` will upload; a missing source file is `E.PATH_NOT_FOUND`, not a remote error. */
export async function putBodySize(body: PutBody): Promise<number> {
  if (Buffer.isBuffer(body)) return body.length;
  if (isPieces(body)) return body.reduce((n, piece) => n + piece.length, 0);
  try {
    return (await fsp.stat(body.file)).size;
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) throw pathNotFound(`cannot upload ${body.file}: it does not exist`, { cause: err });
    throw err;
  }
}

/** Whether a put body is bytes in pieces (a type guard: `Array.isArray` does not narrow a readonly array). */
export function isPieces(body: PutBody): body is readonly Buffer[] {
  return Array.isArray(body);
}
