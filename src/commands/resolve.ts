import fs from 'node:fs';
import path from 'node:path';
import { parsePointer, POINTER_SUFFIX, serializePointer } from '../formats/pointer.js';
import { conflictedRunNames, resolveRunConflicts } from '../formats/run-lock-merge.js';
import { parseRunLock, RUN_LOCK_FILE } from '../formats/run-lock.js';
import { badPointer, MlxError, unknownRun } from '../util/errors.js';
import { readFileIfExists, writeFileAtomicSync } from '../util/fs.js';
import { checkout } from '../workspace/checkout.js';
import { lockRepository } from '../workspace/repository-lock.js';
import { openRepo, type Repo } from '../workspace/repo.js';

export interface ResolveOptions {
  cwd: string;
  /** The conflicting runs to resolve; none means every run marked in mlx.lock. */
  runs: string[];
  side: 'ours' | 'theirs';
}

export interface ResolveResult {
  side: 'ours' | 'theirs';
  resolved: string[];
  /** Runs still marked as conflicting in mlx.lock. */
  remaining: string[];
  /** Output pointers of the resolved runs that were in conflict and now hold the chosen side. */
  pointers: string[];
  /** Tracked paths whose data was brought in line with the chosen pointers, or why not. */
  checkedOut: string[];
  checkoutProblem?: string;
}

/**
 * `mlx resolve <run...> --ours|--theirs`: finishes a merge in which both branches changed the same
 * run. The merge driver left that run's two versions between markers in mlx.lock (every other run
 * merged); this keeps one side's version of each named run, gives the run's output pointers that
 * side too when they are in conflict, and checks their data out. Staging stays with the user, as
 * after `git checkout --ours`.
 */
export async function resolve(opts: ResolveOptions): Promise<ResolveResult> {
  const repo = await openRepo(opts.cwd);
  const lockFile = path.join(repo.root, RUN_LOCK_FILE);
  const release = await lockRepository(repo);
  let result: ResolveResult;
  try {
    const text = readFileIfExists(lockFile);
    const marked = text === undefined ? [] : conflictedRunNames(text);
    if (text === undefined || marked.length === 0) {
      throw unknownRun(`no run is in conflict in ${RUN_LOCK_FILE}`, {
        hint: text !== undefined && /^<<<<<<< /m.test(text) ? `the whole file is in conflict: git checkout --ours (or --theirs) ${RUN_LOCK_FILE}` : 'nothing to resolve',
      });
    }
    const res = resolveRunConflicts(text, opts.side, opts.runs, RUN_LOCK_FILE);
    if (res.unknown.length > 0) {
      throw unknownRun(`run ${res.unknown.join(', ')} is not in conflict in ${RUN_LOCK_FILE}`, { hint: `the runs in conflict: ${marked.join(', ')}` });
    }
    // Which outputs the kept versions name: read before writing, from the side that was kept.
    const kept = keptOutputs(text, opts.side, res.resolved);
    writeFileAtomicSync(lockFile, res.text);
    const pointers = kept.filter((out) => resolvePointer(repo, out, opts.side));
    result = { side: opts.side, resolved: res.resolved, remaining: res.remaining, pointers, checkedOut: [] };
  } finally {
    release();
  }
  if (result.pointers.length > 0) {
    try {
      const present = result.pointers.filter((p) => fs.existsSync(path.join(repo.root, p + POINTER_SUFFIX)));
      if (present.length > 0) await checkout(repo, repo.root, present);
      result.checkedOut = present;
    } catch (err) {
      if (!(err instanceof MlxError)) throw err;
      result.checkoutProblem = `${err.message}${err.hint ? ` (hint: ${err.hint})` : ''}`;
    }
  }
  return result;
}

/** The outputs of the kept versions of `runs`, from the conflicted lockfile text. */
function keptOutputs(text: string, side: 'ours' | 'theirs', runs: string[]): string[] {
  // Resolving every run to one side gives a parseable lockfile holding exactly the kept versions.
  try {
    const all = resolveRunConflicts(text, side, [], RUN_LOCK_FILE);
    if (all.remaining.length > 0 || /^<<<<<<< /m.test(all.text)) return [];
    const lock = parseRunLock(all.text, RUN_LOCK_FILE);
    return [...new Set(runs.flatMap((r) => Object.keys(lock.runs[r]?.outs ?? {})))].sort();
  } catch (err) {
    if (!(err instanceof MlxError)) throw err;
    return [];
  }
}

/**
 * When the pointer of `out` holds conflict markers around two pointers (as the merge driver or git
 * leave them), writes the chosen side's pointer. Returns whether it did.
 */
function resolvePointer(repo: Repo, out: string, side: 'ours' | 'theirs'): boolean {
  const file = path.join(repo.root, out + POINTER_SUFFIX);
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const m = /^<<<<<<< [^\n]*\n([\s\S]*?)^(?:\|{7}[^\n]*\n[\s\S]*?)?={7}\n([\s\S]*?)^>>>>>>> [^\n]*\n?$/m.exec(text);
  if (!m || m.index !== 0) return false;
  const chosen = side === 'ours' ? m[1]! : m[2]!;
  if (chosen.trim() === '') {
    fs.rmSync(file);
    return true;
  }
  try {
    writeFileAtomicSync(file, serializePointer(parsePointer(chosen, `${out}${POINTER_SUFFIX} (${side})`)));
  } catch (err) {
    if (!(err instanceof MlxError)) throw err;
    throw badPointer(`${out}${POINTER_SUFFIX}: the ${side} side is not a pointer (${err.message})`, { hint: `edit ${out}${POINTER_SUFFIX} by hand, or git checkout --${side} ${out}${POINTER_SUFFIX}` });
  }
  return true;
}
