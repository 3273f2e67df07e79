import fs from 'node:fs';
import path from 'node:path';
import { assertTrackedPath, isPointerText, parsePointer, serializePointer, POINTER_SUFFIX, type Pointer } from '../formats/pointer.js';
import { isErrno, MlxError } from '../util/errors.js';
import { readFileIfExists, writeFileAtomicSync } from '../util/fs.js';
import { compareUtf8, isDotName } from '../util/paths.js';
import { ignoredByMlx } from './gitignore.js';
import { MLX_DIR } from './layout.js';
import { absPath, type Repo } from './repo.js';

/** A pointer file found in the work tree, read and checked. */
export interface TrackedPath {
  /** Repo-relative data path (`data/train`), taken from where the pointer lives. */
  path: string;
  pointerFile: string;
  pointer: Pointer;
}

export function pointerFileOf(repo: Repo, rel: string): string {
  return absPath(repo, rel + POINTER_SUFFIX);
}

/** Answers whether mlx git-ignored a data path; one per scan, so `.gitignore` is read at most once. */
export type IgnoredByMlx = (rel: string) => boolean;

/**
 * Whether `<rel>.mlx` with this text is mlx's (see spec/pointer.md): it looks like a pointer, or mlx
 * git-ignored `rel` when it started tracking it, so a damaged pointer is reported rather than taken for
 * another program's `.mlx` file (MATLAB Live Scripts). `.gitignore` is only read for text that does
 * not look like a pointer.
 */
function isOurs(repo: Repo, rel: string, text: string, ignored: IgnoredByMlx = ignoredByMlx(repo.root)): boolean {
  return isPointerText(text) || ignored(rel);
}

/** Reads the pointer tracking `rel`, or undefined when there is none. Malformed pointers throw. */
export function readPointer(repo: Repo, rel: string, ignored?: IgnoredByMlx): TrackedPath | undefined {
  const pointerFile = pointerFileOf(repo, rel);
  const text = readFileIfExists(pointerFile);
  if (text === undefined || !isOurs(repo, rel, text, ignored)) return undefined;
  assertTrackedPath(rel);
  return { path: rel, pointerFile, pointer: parsePointer(text, rel + POINTER_SUFFIX) };
}

/** Writes a pointer only when its content changes, so re-adding unchanged data touches nothing. */
export function writePointer(repo: Repo, pointer: Pointer): boolean {
  const file = pointerFileOf(repo, pointer.path);
  const text = serializePointer(pointer);
  if (readFileIfExists(file) === text) return false;
  writeFileAtomicSync(file, text);
  return true;
}

/** Whether `<rel>.mlx` exists and is mlx's pointer, intact or not (not another program's `.mlx` file). */
export function hasPointer(repo: Repo, rel: string, ignored?: IgnoredByMlx): boolean {
  const text = readHead(pointerFileOf(repo, rel));
  return text !== undefined && isOurs(repo, rel, text, ignored);
}

function readHead(file: string): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined; // absent or unreadable: not a pointer (as below)
  }
  try {
    const buf = Buffer.alloc(4096);
    return buf.toString('utf8', 0, fs.readSync(fd, buf, 0, buf.length, 0));
  } catch {
    return undefined; // a directory named like a pointer, or unreadable: not a pointer
  } finally {
    fs.closeSync(fd);
  }
}

/** The nearest tracked ancestor of `rel` (or `rel` itself), found by looking for `<prefix>.mlx`. */
export function findTrackedAncestor(repo: Repo, rel: string): string | undefined {
  const segs = rel.split('/');
  const ignored = ignoredByMlx(repo.root);
  for (let i = 1; i <= segs.length; i++) {
    const prefix = segs.slice(0, i).join('/');
    if (hasPointer(repo, prefix, ignored)) return prefix;
  }
  return undefined;
}

export interface PointerScan {
  tracked: TrackedPath[];
  problems: { pointer: string; code: string; message: string; hint?: string }[];
}

/**
 * Finds every pointer file in the work tree. Tracked data folders are not descended into, nor are
 * `.git`, `.mlx` and `node_modules`, so the walk costs about what `git status` pays for untracked files.
 */
export function findPointers(repo: Repo): PointerScan {
  const tracked: TrackedPath[] = [];
  const problems: PointerScan['problems'] = [];
  const ignored = ignoredByMlx(repo.root);
  const walk = (absDir: string, relDir: string) => {
    let names: fs.Dirent[];
    try {
      names = fs.readdirSync(absDir, { withFileTypes: true });
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'EACCES', 'ENOTDIR')) return;
      throw err;
    }
    const pointerNames = new Set(names.filter((d) => d.name.endsWith(POINTER_SUFFIX) && !d.isDirectory()).map((d) => d.name));
    for (const d of names) {
      const rel = relDir === '' ? d.name : `${relDir}/${d.name}`;
      if (d.isDirectory()) {
        // Whatever a file system may take for .git or .mlx holds no pointers mlx would act on.
        if (isDotName(d.name, 'git') || d.name === 'node_modules' || (relDir === '' && (d.name === MLX_DIR || isDotName(d.name, 'mlx')))) continue;
        if (pointerNames.has(d.name + POINTER_SUFFIX) && hasPointer(repo, rel, ignored)) continue; // tracked data: its pointer says what it holds
        walk(path.join(absDir, d.name), rel);
      } else if (pointerNames.has(d.name)) {
        const dataRel = rel.slice(0, -POINTER_SUFFIX.length);
        if (dataRel.endsWith('/') || dataRel === '' || d.name === POINTER_SUFFIX) continue;
        try {
          const t = readPointer(repo, dataRel, ignored);
          if (t) tracked.push(t);
        } catch (err) {
          if (!(err instanceof MlxError)) throw err;
          problems.push({ pointer: rel, code: err.code, message: err.message, hint: err.hint });
        }
      }
    }
  };
  walk(repo.root, '');
  tracked.sort((a, b) => compareUtf8(a.path, b.path));
  return { tracked, problems };
}
