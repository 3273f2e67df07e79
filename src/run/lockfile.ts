import path from 'node:path';
import { emptyRunLock, parseRunLock, RUN_LOCK_FILE, serializeRunLock, type RunLock } from '../formats/run-lock.js';
import { readFileIfExists, writeFileAtomicSync } from '../util/fs.js';
import type { Repo } from '../workspace/repo.js';

/** The work tree's `mlx.lock` (empty when there is none yet). A malformed one is an error. */
export function readRunLock(repo: Repo): RunLock {
  const text = readFileIfExists(path.join(repo.root, RUN_LOCK_FILE));
  return text === undefined ? emptyRunLock() : parseRunLock(text, RUN_LOCK_FILE);
}

export function writeRunLock(repo: Repo, lock: RunLock): void {
  writeFileAtomicSync(path.join(repo.root, RUN_LOCK_FILE), serializeRunLock(lock));
}
