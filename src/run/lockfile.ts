import path from 'node:path';
import { emptyRunLock, parseRunLock, RUN_LOCK_FILE, serializeRunLock, type RunLock } from '../formats/run-lock.js';
import { readFileAt, type GitRepo } from '../git/git-repo.js';
import { E, MlxError } from '../util/errors.js';
import { readFileIfExists, writeFileAtomicSync } from '../util/fs.js';
import type { Repo } from '../workspace/repo.js';

/*
 * The run lockfile, read and written only here: in the work tree, or as committed at a revision.
 * One policy for every reader: no lockfile means no runs (an empty one); a lockfile that does not
 * parse is an MlxError `E.BAD_RUNLOCK` naming where it was read (`mlx.lock`, `mlx.lock@<commit>`),
 * with a hint. A caller that can go on without those runs catches exactly that code (`isBadRunLock`).
 */

/** How a lockfile is named in messages: `mlx.lock` for the work tree's, `mlx.lock@<8 hex>` for a commit's. */
export function runLockSource(commit: string | null): string {
  return commit === null ? RUN_LOCK_FILE : `${RUN_LOCK_FILE}@${commit.slice(0, 8)}`;
}

/** Where the work tree's lockfile lives. */
export function runLockPath(repo: Repo): string {
  return path.join(repo.root, RUN_LOCK_FILE);
}

/** The work tree's `mlx.lock` (empty when there is none yet). */
export function readRunLock(repo: Repo): RunLock {
  const text = readFileIfExists(runLockPath(repo));
  return text === undefined ? emptyRunLock() : parseRunLock(text, runLockSource(null));
}

/** The `mlx.lock` committed at `commit` (empty when it has none). */
export async function readRunLockAt(git: GitRepo, commit: string): Promise<RunLock> {
  const bytes = await runLockBytesAt(git, commit);
  return bytes === undefined ? emptyRunLock() : parseRunLock(bytes.toString('utf8'), runLockSource(commit));
}

/**
 * The lockfile's bytes at `commit`, unparsed, or undefined when it has none: checkout restores the
 * file as committed, even one that does not parse (the user may be going back to repair it).
 */
export async function runLockBytesAt(git: GitRepo, commit: string): Promise<Buffer | undefined> {
  return readFileAt(git, commit, RUN_LOCK_FILE);
}

export function writeRunLock(repo: Repo, lock: RunLock): void {
  writeFileAtomicSync(runLockPath(repo), serializeRunLock(lock));
}

/** The error the readers above throw for a lockfile that does not parse. */
export function isBadRunLock(err: unknown): err is MlxError {
  return err instanceof MlxError && err.code === E.BAD_RUNLOCK;
}
