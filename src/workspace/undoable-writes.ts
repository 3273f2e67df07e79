import fs from 'node:fs';
import path from 'node:path';
import { isErrno, badState } from '../util/errors.js';
import { writeFileAtomicSync } from '../util/fs.js';

export interface FileWrite {
  file: string;
  data: string | Uint8Array;
}

/** Puts back what a group of writes replaced. */
export type Undo = () => void;

interface Before {
  file: string;
  /** The bytes the file held; undefined when it did not exist. */
  bytes?: Buffer;
  /** The outermost folder created for it, removed again when empty. */
  createdDir?: string;
}

/**
 * Writes each file atomically and returns how to put every one of them back byte for byte (or remove
 * it when it did not exist). A write that fails undoes the ones before it, so the group lands whole
 * or not at all.
 */
export function writeFilesUndoably(writes: FileWrite[]): Undo {
  const done: Before[] = [];
  const undo: Undo = () => restore(done);
  for (const w of writes) {
    try {
      const before: Before = { file: w.file, bytes: readIfExists(w.file) };
      before.createdDir = fs.mkdirSync(path.dirname(w.file), { recursive: true });
      done.push(before);
      writeFileAtomicSync(w.file, w.data);
    } catch (err) {
      undo();
      throw err;
    }
  }
  return undo;
}

function restore(done: Before[]): void {
  const failed: string[] = [];
  for (const b of [...done].reverse()) {
    try {
      if (b.bytes) writeFileAtomicSync(b.file, b.bytes);
      else fs.rmSync(b.file, { force: true });
      if (b.createdDir) removeEmptyDirs(path.dirname(b.file), b.createdDir);
    } catch (err) {
      // put back every other file first; the failures are reported together below
      failed.push(`${b.file} (${(err as Error).message})`);
    }
  }
  if (failed.length > 0) {
    throw badState(`could not put back ${failed.length} file(s): ${failed.slice(0, 3).join(', ')}`, {
      hint: 'restore them from git (git checkout -- <file>)',
      files: failed,
    });
  }
}

/** Removes `dir` and its parents up to and including `top` while they are empty. */
function removeEmptyDirs(dir: string, top: string): void {
  for (let cur = dir; cur.length >= top.length; cur = path.dirname(cur)) {
    try {
      fs.rmdirSync(cur);
    } catch (err) {
      if (isErrno(err, 'ENOTEMPTY', 'EEXIST', 'ENOENT')) return;
      throw err;
    }
    if (cur === top) return;
  }
}

function readIfExists(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}
