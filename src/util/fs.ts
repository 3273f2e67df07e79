import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import crypto from 'node:crypto';
import { isErrno } from './errors.js';

/**
 * Random once per process, so a recycled pid never meets a name a killed process left. Drawn with the
 * first temp name: a command that writes nothing (status) does not pay for the random source.
 */
let nonce: string | undefined;
let counter = 0;

/**
 * `<pid>-<nonce>-<n>`: unique within this machine without a random draw per call (thousands of temp
 * files per command); the leading pid lets a later process sweep what a killed one left.
 */
export function uniqueTempName(): string {
  nonce ??= crypto.randomBytes(6).toString('hex');
  return `${process.pid}-${nonce}-${(counter++).toString(36)}`;
}

/** Folders where this process may have temp files, for {@link removeOwnTemps}. */
const tempDirs = new Set<string>();

/** A unique temporary file name beside `target` (same folder, so the final rename is atomic). */
export function tempPathFor(target: string): string {
  const dir = path.dirname(target);
  tempDirs.add(dir);
  return path.join(dir, `.${path.basename(target)}.${uniqueTempName()}.tmp`);
}

/**
 * A new folder `<parent>/<prefix><unique name>` that this process owns: removed by the caller when done,
 * and by {@link removeOwnTemps} when a signal stops the process first.
 */
export function makeOwnTempDir(parent: string, prefix: string): string {
  const dir = path.join(parent, `${prefix}${uniqueTempName()}`);
  fs.mkdirSync(dir, { recursive: false });
  tempDirs.add(parent);
  return dir;
}

/** Folders where this process puts files named by {@link uniqueTempName} (store and repository temp folders). */
export function registerTempDir(...dirs: string[]): void {
  for (const dir of dirs) tempDirs.add(dir);
}

/**
 * Removes every temp file this process created and still has, in the folders it used: for a process
 * stopped by a signal, whose `finally` blocks never run. Names carry this process's pid and nonce, so no
 * other writer's file is touched.
 */
export function removeOwnTemps(): number {
  if (nonce === undefined) return 0; // no name carries this process's nonce yet
  const mine = `${process.pid}-${nonce}-`;
  let removed = 0;
  for (const dir of tempDirs) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue; // best effort while exiting: a folder gone or unreadable holds nothing to remove
    }
    for (const name of names) {
      if (!name.includes(mine)) continue;
      try {
        fs.rmSync(path.join(dir, name), { force: true, recursive: true });
        removed++;
      } catch {
        // gone meanwhile, or not removable: a later sweep of orphans takes it
      }
    }
  }
  return removed;
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
  writeFileAtomicStreamSync(file, (write) => write(typeof data === 'string' ? Buffer.from(data) : data), opts);
}

/**
 * Like {@link writeFileAtomicSync}, for content made a piece at a time: `produce` calls `write` as often
 * as it likes, so a large file never stands whole in memory.
 */
export function writeFileAtomicStreamSync(file: string, produce: (write: (data: Uint8Array) => void) => void, opts: AtomicWriteOptions = {}): void {
  const tmp = tempPathFor(file);
  try {
    const fd = fs.openSync(tmp, 'wx', opts.mode ?? 0o666);
    try {
      produce((data) => {
        for (let done = 0; done < data.length; ) done += fs.writeSync(fd, data, done, data.length - done);
      });
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

/**
 * `mkdir -p` that always ends. Node's recursive mkdir retries for ever where creating a missing folder
 * fails with ENOENT although its parent exists (under /proc, for one), spinning at full CPU. Here each
 * missing ancestor is created once, from the top, and a folder that still cannot be made fails with
 * its errno. Costs one mkdir when the folder exists.
 */
export async function mkdirp(dir: string): Promise<void> {
  const parent = path.dirname(dir);
  try {
    await fsp.mkdir(dir);
    return;
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return;
    if (!isErrno(err, 'ENOENT') || parent === dir) throw err;
  }
  await mkdirp(parent);
  try {
    await fsp.mkdir(dir);
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err;
  }
}
