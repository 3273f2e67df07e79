import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

/** Random once per process, so a recycled pid never meets a name a killed process left. */
const NONCE = crypto.randomBytes(6).toString('hex');
let counter = 0;

/**
 * `<pid>-<nonce>-<n>`: unique within this machine without a random draw per call (thousands of temp
 * files per command); the leading pid lets a later process sweep what a killed one left.
 */
export function uniqueTempName(): string {
  return `${process.pid}-${NONCE}-${(counter++).toString(36)}`;
}

/** A unique temporary file name beside `target` (same folder, so the final rename is atomic). */
export function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${uniqueTempName()}.tmp`);
}

let umask: number | undefined;

/**
 * The process umask, read once: `process.umask()` without an argument sets and restores it (two
 * system calls) on every call, and nothing in mlx changes it.
 */
export function processUmask(): number {
  if (umask === undefined) {
    umask = process.umask(0);
    process.umask(umask);
  }
  return umask;
}

/**
 * Lets the group write what this process creates (umask without group bits), as git does for a
 * shared repository: used when the cache is shared by a group (cache.shared group).
 */
export function allowGroupWrites(): void {
  const current = processUmask();
  const wanted = current & ~0o070;
  if (wanted !== current) {
    process.umask(wanted);
    umask = wanted;
  }
}

export interface AtomicWriteOptions {
  /** File mode of a new file (default 0o666, less the umask). */
  mode?: number;
  /**
   * fsync before the rename (default true). Caches that are rebuilt when missing or unreadable (stat
   * index, remote index copies) pass false: on ext4 an fsync commits the journal and so forces out
   * every dirty page of the transaction — after a pull, a whole checkpoint — for no gain.
   */
  durable?: boolean;
}

/**
 * Writes `data` to `file` atomically: a temp file in the same folder, fsync'd (unless not `durable`),
 * then renamed over the target. Readers see the old or the new content, never a torn write.
 */
export function writeFileAtomicSync(file: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): void {
  const tmp = tempPathFor(file);
  try {
    const fd = fs.openSync(tmp, 'wx', opts.mode ?? 0o666);
    try {
      fs.writeFileSync(fd, data);
      if (opts.durable ?? true) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

export function readFileIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}

export function lstatIfExists(file: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}
