import { POINTER_SUFFIX } from '../formats/pointer.js';
import { pathNotFound, pathsOverlap, problemError } from '../util/errors.js';
import { findPointers, findTrackedAncestor, hasPointer, readPointer, type TrackedPath } from './pointers.js';
import { toRepoPath, type Repo } from './repo.js';

/** A user's path argument resolved against the tracked paths. */
export interface Target {
  /** The tracked path (the one with a pointer), or the path to start tracking. */
  tracked: string;
  /** Inside a tracked directory: the part below it (`c003/img.bin`); undefined for the whole path. */
  sub?: string;
  /** Whether a pointer exists for `tracked` already. */
  exists: boolean;
}

/**
 * Maps user paths (relative to `cwd`) to tracked paths. `data/train.mlx` means `data/train`; a path
 * inside a tracked directory maps to that directory with `sub` set.
 */
export function resolveTargets(repo: Repo, cwd: string, userPaths: string[]): Target[] {
  const all: Target[] = [];
  for (const user of userPaths) {
    let rel = toRepoPath(repo, cwd, user);
    // `data/train.mlx` names `data/train`; a `.mlx` file that is not a pointer is data like any other.
    if (rel.endsWith(POINTER_SUFFIX) && hasPointer(repo, rel.slice(0, -POINTER_SUFFIX.length))) rel = rel.slice(0, -POINTER_SUFFIX.length);
    const tracked = findTrackedAncestor(repo, rel);
    all.push(tracked ? { tracked, exists: true, sub: tracked === rel ? undefined : rel.slice(tracked.length + 1) } : { tracked: rel, exists: false });
  }
  // Asking for a whole path and part of it is asking for the whole path; a part inside another part
  // is asked for already.
  const covers = (a: Target, b: Target) => a.tracked === b.tracked && (a.sub === undefined || (b.sub !== undefined && (b.sub === a.sub || b.sub.startsWith(`${a.sub}/`))));
  const targets = all.filter((t, i) => !all.some((o, j) => o !== t && covers(o, t) && (!covers(t, o) || j < i)));
  for (const a of targets) {
    for (const b of targets) {
      if (a.tracked !== b.tracked && b.tracked.startsWith(`${a.tracked}/`)) {
        throw pathsOverlap(`cannot track both ${a.tracked} and ${b.tracked}: one lies inside the other`, { paths: [a.tracked, b.tracked] });
      }
    }
  }
  return targets;
}

/** A tracked path to act on, optionally only the part `sub` below it. */
export interface Selection {
  tracked: TrackedPath;
  sub?: string;
  /** `sub` may be absent from the pointer's data (a partial selection kept across revisions): then nothing to do, not an error. */
  mayBeAbsent?: boolean;
}

/**
 * The tracked paths a command acts on: every pointer in the work tree when no paths are given (a
 * malformed pointer is then an error), else the named ones, each of which must be tracked.
 */
export function selectTracked(repo: Repo, cwd: string, userPaths: string[]): Selection[] {
  if (userPaths.length === 0) {
    const scan = findPointers(repo);
    if (scan.problems.length > 0) throw problemError(scan.problems[0]!);
    return scan.tracked.map((tracked) => ({ tracked }));
  }
  return resolveTargets(repo, cwd, userPaths).map((t) => {
    const tracked = t.exists ? readPointer(repo, t.tracked) : undefined;
    if (!tracked) throw pathNotFound(`${t.tracked} is not tracked by mlx (no ${t.tracked}.mlx)`, { hint: 'mlx status lists tracked paths; a revision name must be a branch, tag or commit', path: t.tracked });
    return { tracked, sub: t.sub };
  });
}
